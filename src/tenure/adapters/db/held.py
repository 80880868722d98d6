"""Inserts of new rows held back by a unit of work, then sent together in one statement."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from tenure.adapters.db.prebuilt import Prebuilt, execute_together, untouched

Explain = Callable[[IntegrityError], None]  # raises a domain error for a violation it knows


class HeldInserts:
    """Rows a unit of work inserts (a created user, its e-mails, audit entries), held until
    the next statement needs them or the unit of work commits, then sent as one statement.

    Every repository reads its connection through :attr:`TenantRepository.conn
    <tenure.adapters.db.repositories.base.TenantRepository.conn>`, which sends what is held
    first: a statement always sees the rows inserted before it. A create that runs nothing
    else is then one statement in all, committed by itself (see :meth:`alone`).
    """

    __slots__ = ("_conn", "_writes")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._writes: list[tuple[Prebuilt, Sequence[Mapping[str, Any]], Explain | None]] = []

    def __bool__(self) -> bool:
        return bool(self._writes)

    def add(
        self, stmt: Prebuilt, rows: Sequence[Mapping[str, Any]], explain: Explain | None = None
    ) -> None:
        if rows:
            self._writes.append((stmt, rows, explain))

    def alone(self) -> bool:
        """Whether the held rows would be all the transaction does: nothing ran before them
        (PostgreSQL only). They can then be sent as a statement that commits by itself."""
        return bool(self._writes) and untouched(self._conn)

    def send(self, *, autocommit: bool = False) -> None:
        """Insert what is held, in the order it came; ``autocommit`` only when :meth:`alone`."""
        writes, self._writes = self._writes, []
        if not writes:
            return
        try:
            execute_together(
                self._conn, [(stmt, rows) for stmt, rows, _ in writes], autocommit=autocommit
            )
        except IntegrityError as error:
            for _stmt, _rows, explain in writes:
                if explain is not None:
                    explain(error)
            raise
