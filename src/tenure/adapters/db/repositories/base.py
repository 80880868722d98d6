"""What every tenant-scoped repository shares: a connection and the organisation it serves."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Executable,
    Select,
    Table,
    and_,
    bindparam,
    func,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from tenure.adapters.db.held import Explain, HeldWrites
from tenure.adapters.db.prebuilt import Prebuilt, execute, execute_many

TENANT = "tenant_org_id"  # not a column name: UPDATE and INSERT reserve those for their values


def tenant(table: Table) -> ColumnElement[bool]:
    """The tenant filter of a statement built once per process (see ``TenantRepository.run``).

    Building a SQLAlchemy statement and its cache key costs about as much CPU as running it;
    the statements of the hot paths (member changes, creates, look-ups) are built once, with
    bound parameters, and every repository runs them with its own organisation bound in.
    """
    return table.c.org_id == bindparam(TENANT)


@dataclass(frozen=True, slots=True)
class Bound:
    """A filter condition whose SQL depends only on ``shape``; its values are in ``params``.

    The look-ups an IdP makes on every sync (``userName eq "…"``) come as one; their page
    statement is built once per shape and run with the values bound. A shape stands for the
    condition's SQL *and* the order its pages come in: the SCIM edge makes a ``Bound`` only
    for unsorted lists, which page in the resource's one default order.
    """

    where: ColumnElement[bool]
    params: dict[str, Any]
    shape: Hashable


_PAGES: dict[Hashable, Prebuilt] = {}


@cache
def _by_id(
    table: Table,
    dialect: str,
    include_deleted: bool,
    lock: bool,
    extra: tuple[ColumnElement[Any], ...],
) -> Prebuilt:
    stmt = select(table, *extra).where(tenant(table), table.c.id == bindparam("row_id"))
    if not include_deleted:
        stmt = stmt.where(table.c.deleted_at.is_(None))
    return Prebuilt(_locked(stmt, dialect) if lock else stmt)


def _locked(stmt: Any, dialect: str) -> Any:
    """``stmt`` locking the rows it reads until the commit.

    SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL locks the rows.
    """
    return stmt.with_for_update() if dialect == "postgresql" else stmt


def _page(stmt: Select[Any], offset: Any, limit: Any) -> Select[Any]:
    """``stmt`` limited to a page; the first page (``offset`` 0) has no OFFSET clause.

    PostgreSQL prices a prepared statement's generic plan with a parameter OFFSET as if it had
    to skip rows, so a look-up by ``userName`` with ``OFFSET $n`` looked dearer generic than
    planned for its values and was planned again on every run, for most of its database time.
    Without the clause its generic plan is chosen after five runs.
    """
    if isinstance(offset, int) and offset == 0:
        return stmt.limit(limit)
    return stmt.offset(offset).limit(limit)


class TenantRepository:
    """Base of repositories scoped to one organisation by construction."""

    def __init__(self, conn: Connection, org_id: str, held: HeldWrites | None = None) -> None:
        self._conn = conn
        self.org_id = org_id
        self._held = held

    @property
    def conn(self) -> Connection:
        """The unit of work's connection; the writes it holds back go first, so every
        statement a repository runs sees them."""
        return self._reading(None)

    @property
    def dialect(self) -> str:
        """The database's dialect name; asking sends nothing held."""
        return self._conn.dialect.name

    def hold(
        self, stmt: Prebuilt, rows: Sequence[dict[str, Any]], explain: Explain | None = None
    ) -> None:
        """Write with a prebuilt statement that returns nothing, once per row of parameters,
        held back until the next statement or the commit (``HeldWrites``; at once when the
        repository has no holder). ``explain`` raises the domain error for a constraint
        violation it recognises."""
        held = self._held if self._held is not None else HeldWrites(self._conn)
        held.add(stmt, rows, explain)
        if held is not self._held:
            held.send()

    def scoped(self, table: Table) -> ColumnElement[bool]:
        """The tenant filter for ``table``; every query of a repository starts from it."""
        return table.c.org_id == self.org_id

    def run(self, stmt: Executable | Prebuilt, **values: Any) -> Any:
        """Run a statement built with :func:`tenant`: this repository's organisation is bound
        as :data:`TENANT`, so a prebuilt statement is still scoped by construction.

        Returns SQLAlchemy's result, or for a :class:`Prebuilt` statement on PostgreSQL the
        lighter :class:`~tenure.adapters.db.prebuilt.Rows`; both iterate rows and answer
        ``first``, ``scalar``, ``scalar_one`` and ``scalars``. ``scalars`` is a list only on
        PostgreSQL (SQLAlchemy's is read once and always true): take ``list(...)`` to keep it.
        """
        params = {**values, TENANT: self.org_id}
        if isinstance(stmt, Prebuilt):
            return execute(self._reading(stmt.reads), stmt, params)
        return self.conn.execute(stmt, params)

    def _reading(self, tables: frozenset[Any] | None) -> Connection:
        """The connection for a plain read of ``tables`` (``Prebuilt.reads``; None: any other
        statement): the held writes go first only if the read could see them. A small
        group's member change then reads its member list and sends its writes and audit
        entries together at the commit, a round trip fewer."""
        if self._held and (tables is None or self._held.touches(tables)):
            self._held.send()
        return self._conn

    def run_many(self, stmt: Prebuilt, rows: Sequence[dict[str, Any]]) -> None:
        """Write with a prebuilt statement that returns nothing, once per row of parameters
        (each row carries its own organisation, as the statement's parameter names require;
        on PostgreSQL the rows of a plain insert go as one statement)."""
        execute_many(self.conn, stmt, rows)

    def by_id(
        self,
        table: Table,
        row_id: str,
        *,
        include_deleted: bool = False,
        lock: bool = False,
        extra: tuple[ColumnElement[Any], ...] = (),
    ) -> Any:
        """One row of ``table`` by id (live only, unless ``include_deleted``), with ``extra``
        columns; ``lock`` locks that row (not what ``extra`` reads) until the commit. A statement
        built once per variant: the reads behind a GET, PATCH, PUT or DELETE of a resource."""
        stmt = _by_id(table, self.dialect, include_deleted, lock, extra)
        return self.run(stmt, row_id=row_id).first()

    @property
    def on_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    def _lock(self, stmt: Any) -> Any:
        return _locked(stmt, self.dialect)

    def live_page(
        self,
        table: Table,
        where: ColumnElement[bool] | Bound | None,
        order_by: Sequence[Any],
        offset: int,
        limit: int,
        *,
        extra: Sequence[ColumnElement[Any]] = (),
        variant: Hashable = None,
    ) -> tuple[int, list[Any]]:
        """A page of the live (not deleted) rows of ``table`` matching ``where``, and the total.

        A :class:`Bound` condition runs from a statement built once per shape and ``variant``
        (what ``extra`` adds); any other condition is built for the request.
        """
        if isinstance(where, Bound) and limit > 0:
            cond = where.where
            found = self.bound_page(
                (table.name, self.dialect, where.shape, variant),
                lambda: (
                    select(table, *extra)
                    .where(tenant(table), table.c.deleted_at.is_(None), cond)
                    .order_by(*order_by)
                ),
                offset,
                limit,
                where.params,
            )
            if found is not None:
                return found
        base = [self.scoped(table), table.c.deleted_at.is_(None)]
        if isinstance(where, Bound):
            base.append(where.where)
        elif where is not None:
            base.append(where)
        return self.counted_page(
            table,
            and_(*base),
            order_by,
            offset,
            limit,
            filtered=where is not None,
            extra=extra,
            params=where.params if isinstance(where, Bound) else None,
        )

    def bound_page(
        self,
        key: Hashable,
        build: Callable[[], Select[Any]],
        offset: int,
        limit: int,
        params: dict[str, Any],
    ) -> tuple[int, list[Any]] | None:
        """A page by a statement built once per ``key`` (``build`` makes it, tenant-scoped
        with :func:`tenant`), with its total from a window count: one round trip.

        None when the page is empty past the first, where only a separate count can say the
        total; the caller then takes :meth:`counted_page`.
        """
        skips = offset > 0  # the first page has no OFFSET at all: see `_page`
        stmt = _PAGES.get((key, skips))
        if stmt is None:
            if len(_PAGES) >= 512:  # shapes are few (attributes x operators); a safety bound
                _PAGES.clear()
            stmt = Prebuilt(
                _page(
                    build().add_columns(func.count().over().label("_total")),
                    bindparam("page_offset") if skips else 0,
                    bindparam("page_limit"),
                )
            )
            _PAGES[(key, skips)] = stmt
        bounds = {"page_offset": offset, "page_limit": limit} if skips else {"page_limit": limit}
        rows = list(self.run(stmt, **bounds, **params))
        if rows:
            return int(rows[0]._total), rows
        return (0, []) if offset == 0 else None

    def counted_page(
        self,
        table: Table,
        condition: ColumnElement[bool],
        order_by: Sequence[Any],
        offset: int,
        limit: int,
        *,
        filtered: bool,
        extra: Sequence[ColumnElement[Any]] = (),
        params: dict[str, Any] | None = None,
    ) -> tuple[int, list[Any]]:
        """One page of rows and the exact total of matches.

        A filtered look-up (an IdP matching one user) gets its total from a window count in
        the same statement: one round trip. An unfiltered page keeps the separate, index-only
        count, so the database can still walk the ordering index and stop at ``limit``.
        """
        if limit > 0 and filtered:
            total_col = func.count().over().label("_total")
            stmt = select(table, *extra, total_col).where(condition).order_by(*order_by)
            rows = list(self.run(_page(stmt, offset, limit), **(params or {})))
            if rows:
                return int(rows[0]._total), rows
            if offset == 0:
                return 0, []
        count = select(func.count()).select_from(table).where(condition)
        total = self.run(count, **(params or {})).scalar() or 0
        if limit <= 0 or offset >= total:
            return total, []
        stmt = select(table, *extra).where(condition).order_by(*order_by)
        return total, list(self.run(_page(stmt, offset, limit), **(params or {})))
