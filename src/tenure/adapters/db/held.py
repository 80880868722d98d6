"""Writes a unit of work holds back, then sends together in one statement."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from tenure.adapters.db.prebuilt import Prebuilt, execute_together, untouched

Explain = Callable[[IntegrityError], None]  # raises a domain error for a violation it knows


class HeldWrites:
    """Writes whose result nobody reads at once (a created user and its e-mails, a group's
    count and version, audit entries), held until the next statement needs them or the unit
    of work commits, then sent as one statement.

    Every repository reads its connection through :attr:`TenantRepository.conn
    <tenure.adapters.db.repositories.base.TenantRepository.conn>`, which sends what is held
    first: a statement always sees the writes made before it. The parts of one statement all
    see the rows as they were before it, so they must not touch the same rows: a statement
    carries an update or delete of a table only if nothing else in it writes that table
    (holding one sends what is held first), while inserts into one table may go together. A
    create that runs nothing else is one statement in all, committed by itself (see
    :meth:`alone`).
    """

    __slots__ = ("_conn", "_tables", "_writes")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._writes: list[tuple[Prebuilt, Sequence[Mapping[str, Any]], Explain | None]] = []
        self._tables: list[tuple[Any, bool]] = []  # (table, only inserts) of each held write

    def __bool__(self) -> bool:
        return bool(self._writes)

    def add(
        self, stmt: Prebuilt, rows: Sequence[Mapping[str, Any]], explain: Explain | None = None
    ) -> None:
        if not rows:
            return
        table, inserts = stmt.table, stmt.inserts
        if any(
            held is table and not (inserts and held_inserts) for held, held_inserts in self._tables
        ):
            self.send()
        self._tables.append((table, inserts))
        self._writes.append((stmt, rows, explain))

    def touches(self, tables: frozenset[Any]) -> bool:
        """Whether a held write changes one of ``tables``."""
        return any(table in tables for table, _ in self._tables)

    def alone(self) -> bool:
        """Whether the held writes would be all the transaction does: nothing ran before them
        (PostgreSQL only). They can then be sent as a statement that commits by itself."""
        return bool(self._writes) and untouched(self._conn)

    def send(self, *, autocommit: bool = False) -> None:
        """Run what is held, in the order it came; ``autocommit`` only when :meth:`alone`."""
        writes, self._writes, self._tables = self._writes, [], []
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
