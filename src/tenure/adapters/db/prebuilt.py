"""Statements built once per process, and on PostgreSQL run straight on psycopg's cursor.

The hot paths (creates, look-ups, member changes) run a handful of statements each, all built
once with bound parameters. SQLAlchemy still builds and compiles them, once; what it would
otherwise do on every execution (an execution context, parameter processing, a result set-up)
cost about 2.7 times psycopg's own work per statement, measured (``docs/performance.md``). So on
PostgreSQL a :class:`Prebuilt` statement is compiled once per set of parameter names into a
:class:`~tenure.adapters.db.plans.Plan` (the SQL, the statement's own literal values,
SQLAlchemy's bind processors for its types) and executed on the connection's psycopg cursor,
inside the same transaction.

What a plan does not cover falls back to SQLAlchemy's own execution: a statement whose result
columns need SQLAlchemy's result processing, or whose expanding ``IN`` cannot be sent as one
array. SQLite always runs through SQLAlchemy. Driver errors go through SQLAlchemy's own error
handling, so callers (and the retries) see exactly what they would see otherwise.
"""

from __future__ import annotations

import select
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from itertools import chain
from typing import Any, cast

from psycopg import AsyncRawCursor, RawCursor
from psycopg.pq import TransactionStatus
from psycopg.sql import Literal
from sqlalchemy import Connection, Executable, Select, Table
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.visitors import iterate
from sqlalchemy.util import await_

from tenure.adapters.db import driver as db_driver
from tenure.adapters.db.plans import ONE_ROW, PLACEHOLDER, Plan

_ROWS_MAX = 100  # rows per multi-row INSERT; more go in several
_TOGETHER_MAX = 8  # inserts sent as one statement (data-modifying WITH clauses)


class Prebuilt:
    """A statement built once per process (module level), run by :func:`execute`."""

    __slots__ = ("_plans", "for_values", "inserts", "reads", "stmt", "table")

    def __init__(self, stmt: Executable, *, for_values: bool = False) -> None:
        self.stmt = stmt
        # Its best plan depends on its values (all of one group's rows, say): in a SCIM write
        # it is sent with them written in, and planned for them (:func:`_once_for_values`).
        self.for_values = for_values
        self._plans: dict[tuple[frozenset[str], frozenset[str]], Plan | None] = {}
        # What a write statement changes (``HeldWrites`` orders writes by it): its table, and
        # whether it only inserts; None and False for a read.
        self.table: Any = getattr(stmt, "table", None)
        self.inserts = bool(getattr(stmt, "is_insert", False))
        self.reads = plain_read(stmt)

    def plan(
        self, conn: Connection, params: Mapping[str, Any], *, many: bool = False
    ) -> Plan | None:
        """The plan for these parameter names; a list of one compares as a single value
        (unless the plan serves ``many`` parameter sets, whose lists may differ)."""
        names = frozenset(params)
        plan = self._compiled(conn, names, _NONE)
        if plan is not None and plan.lists and not many:
            single = frozenset(n for n in plan.lists if len(params[n]) == 1)
            if single:
                return self._compiled(conn, names, single)
        return plan

    def _compiled(
        self, conn: Connection, names: frozenset[str], single: frozenset[str]
    ) -> Plan | None:
        try:
            return self._plans[names, single]
        except KeyError:
            plan = self._plans[names, single] = Plan.compile(self.stmt, conn, names, single)
            return plan


def plain_read(stmt: Executable) -> frozenset[Any] | None:
    """The tables a plain read reads: a SELECT that writes nothing and locks nothing, in any
    of its parts. Writes held back on other tables cannot change what it sees, so they need
    not go before it (``TenantRepository.run``). None for any other statement."""
    if not isinstance(stmt, Select):
        return None
    tables = set()
    for part in iterate(stmt):
        if isinstance(part, UpdateBase) or getattr(part, "_for_update_arg", None) is not None:
            return None
        if isinstance(part, Table):
            tables.add(part)
    return frozenset(tables)


_NONE: frozenset[str] = frozenset()


class Rows:
    """The rows of one execution, with the few ways the repositories read them."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0][0]

    def scalars(self) -> list[Any]:
        return [r[0] for r in self._rows]


def execute(conn: Connection, prebuilt: Prebuilt, params: Mapping[str, Any]) -> Any:
    """Run one prebuilt statement: on PostgreSQL by its plan, otherwise by SQLAlchemy."""
    if conn.dialect.name != "postgresql":
        return conn.execute(prebuilt.stmt, params)
    plan = prebuilt.plan(conn, params)
    if plan is None:
        if prebuilt.for_values:
            raise TypeError(f"a statement planned for its values needs a plan: {prebuilt.stmt}")
        return conn.execute(prebuilt.stmt, params)
    values = plan.params(params)
    if prebuilt.for_values and _plans_generically(conn):
        return _once_for_values(conn, plan, values)
    with _translated(conn, plan.text, values) as cursor:
        if plan.row is None:
            cursor.execute(plan.sql, values)
            return Rows([])
        make = plan.row
        return Rows([make(r) for r in _fetched(cursor, plan.sql, values)])


def _plans_generically(conn: Connection) -> bool:
    """Whether ``conn`` is in a SCIM write, begun or about to begin: a transaction that plans
    its prepared statements generically (``driver.AsyncConnection``)."""
    driver = _driver(conn)
    return isinstance(driver, db_driver.AsyncConnection) and (
        not driver.autocommit or bool(conn.info.get(_DEFERRED))
    )


def _once_for_values(conn: Connection, plan: Plan, values: Sequence[Any]) -> Rows:
    """Run a statement whose best plan depends on its values (every member of one group:
    from one row to 20k) with the values written into its text, as psycopg's literals, and
    not prepared: PostgreSQL plans it for them whatever the transaction's plan mode. In a
    SCIM write, which plans its prepared statements generically (``driver.py``), a generic
    plan of this one, made for the average group, read a whole table for a group of a
    hundred; a ``SET LOCAL`` back to PostgreSQL's default cost a round trip, and left the rest
    of the transaction planning by value (decision 6). Reads, in PostgreSQL's default mode,
    keep the statement prepared: planning it anew at every read cost 3 to 12 % of a group's."""
    driver = _driver(conn)
    literals = [Literal(v).as_bytes(driver) for v in values]
    sql = PLACEHOLDER.sub(lambda m: literals[int(m.group(1)) - 1], plan.sql)
    with _translated(conn, plan.text, values) as cursor:
        if plan.row is None:
            cursor.execute(sql, None, prepare=False)
            return Rows([])
        make = plan.row
        return Rows([make(r) for r in _fetched(cursor, sql, None, prepare=False)])


def _fetched(
    cursor: RawCursor[Any] | _AwaitedCursor,
    sql: bytes,
    values: Any,
    *,
    prepare: bool | None = None,
) -> list[Any]:
    if isinstance(cursor, _AwaitedCursor):
        return cursor.fetched(sql, values, prepare=prepare)
    cursor.execute(sql, values, prepare=prepare)
    return cursor.fetchall()


def execute_many(conn: Connection, prebuilt: Prebuilt, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run a statement that returns nothing once per parameter set; on PostgreSQL the rows of a
    plain single-table insert go as one multi-row statement."""
    if not rows:
        return
    if len(rows) == 1:
        execute(conn, prebuilt, rows[0])
        return
    if conn.dialect.name != "postgresql":
        conn.execute(prebuilt.stmt, list(rows))
        return
    plan = prebuilt.plan(conn, rows[0], many=True)
    if plan is None:
        conn.execute(prebuilt.stmt, list(rows))
        return
    values = [plan.params(r) for r in rows]
    with _translated(conn, plan.text, values) as cursor:
        if not plan.rows_at_once:
            cursor.executemany(plan.sql, values)
            return
        for start in range(0, len(values), _ROWS_MAX):
            chunk = values[start : start + _ROWS_MAX]
            cursor.execute(_rows_sql(plan.sql, len(chunk)), list(chain.from_iterable(chunk)))


@cache
def _rows_sql(sql: bytes, n: int) -> bytes:
    """A one-row ``INSERT … VALUES ($1 … $k)`` as ``n`` rows in one statement (``$k+1 …`` for the
    second): one round trip and one plan, where psycopg's ``executemany`` would run a pipeline
    of ``n`` statements."""
    match = ONE_ROW.match(sql)
    assert match is not None
    head, row = match.groups()
    width = len(PLACEHOLDER.findall(row))
    return head + b", ".join(_shifted(row, i * width) for i in range(n))


def _shifted(sql: bytes, by: int) -> bytes:
    """``sql`` with each placeholder ``$k`` numbered ``$k+by``."""
    return PLACEHOLDER.sub(lambda m: b"$%d" % (int(m.group(1)) + by), sql) if by else sql


def execute_together(
    conn: Connection,
    writes: Sequence[tuple[Prebuilt, Sequence[Mapping[str, Any]]]],
    *,
    autocommit: bool = False,
) -> None:
    """Run several writes that return nothing, in order; on PostgreSQL as one statement, each
    but the last as a data-modifying ``WITH`` clause. They all succeed or fail together, and
    foreign keys are checked at the end of the statement, so a row may refer to one inserted
    beside it. They all see the rows as they were before the statement: the caller must not
    put two changes of one row together (``HeldWrites`` never puts an update of a table beside
    another write of it).

    With ``autocommit`` (only when :func:`untouched`), that statement is the whole transaction:
    one round trip where BEGIN, the writes and COMMIT took several. The connection stays in
    autocommit: the next unit of work sets the mode it needs (:func:`open_mode`).
    """
    writes = [(prebuilt, rows) for prebuilt, rows in writes if rows]
    plans = _together(conn, writes)
    if plans is None:
        for prebuilt, rows in writes:
            execute_many(conn, prebuilt, rows)
        return
    sql = _with_sql(tuple((plan.sql, len(rows)) for plan, rows in plans))
    values = list(chain.from_iterable(plan.params(row) for plan, rows in plans for row in rows))
    if autocommit:  # the statement is the whole transaction: it runs as a read does
        open_mode(conn, write=False)
    with _translated(conn, " / ".join(plan.text for plan, _ in plans), values) as cursor:
        cursor.execute(sql, values)


def _driver(conn: Connection) -> db_driver.Connection | db_driver.AsyncConnection:
    """psycopg's connection under ``conn`` (PostgreSQL): always Tenure's subclass, which both
    engines create (``engine.py``)."""
    return cast(
        "db_driver.Connection | db_driver.AsyncConnection", conn.connection.driver_connection
    )


_DEFERRED = "tenure.deferred_transaction"  # in a connection's info: see open_mode


def open_mode(conn: Connection, write: bool) -> None:
    """Set ``conn`` (PostgreSQL) up for a unit of work: a read runs in autocommit, a write in a
    transaction. The mode is set on the driver, and only when it changes: SQLAlchemy's
    isolation-level option set it at every checkout and reset it at every return, about a tenth
    of a look-up's CPU.

    A write on a connection left in autocommit (by a read, or a create's lone statement) leaves
    it so until its first statement (:func:`begin_deferred`, called before every statement):
    a write that turns out to be one statement sent by itself (:func:`execute_together`) then
    changes no mode at all, and any other begins its transaction as before.
    """
    driver = _driver(conn)
    if write:
        conn.info[_DEFERRED] = driver.autocommit
    else:
        conn.info[_DEFERRED] = False
        if not driver.autocommit:
            _set_autocommit(driver, True)


def begin_deferred(conn: Connection) -> None:
    """Before a statement: a write's deferred transaction begins (psycopg sends BEGIN with the
    statement). Every statement passes here: prebuilt ones from :class:`_translated`,
    SQLAlchemy's own from the engine's ``before_cursor_execute`` event (``engine.py``)."""
    info = conn.info
    if info.get(_DEFERRED):
        info[_DEFERRED] = False
        _set_autocommit(_driver(conn), False)


def _set_autocommit(driver: db_driver.Connection | db_driver.AsyncConnection, value: bool) -> None:
    if isinstance(driver, db_driver.AsyncConnection):
        if not driver.set_autocommit_idle(value):
            await_(driver.set_autocommit(value))
    else:
        driver.autocommit = value


def untouched(conn: Connection) -> bool:
    """Whether ``conn`` is on PostgreSQL with nothing run yet in its transaction (psycopg
    sends BEGIN only with the first statement), so one statement could be all of it.

    Not when the server has already spoken on the idle connection: that is a session it
    ended (a restart, a terminated backend), and the unit of work should fail on BEGIN,
    which it can retry, rather than on a statement that might have committed.
    """
    if conn.dialect.name != "postgresql":
        return False
    driver = _driver(conn)
    if driver.pgconn.transaction_status != TransactionStatus.IDLE:
        return False
    if driver.autocommit and not conn.info.get(_DEFERRED):
        return False  # a read
    readable, _, _ = select.select([driver.pgconn.socket], [], [], 0)
    return not readable


def _together(
    conn: Connection, writes: Sequence[tuple[Prebuilt, Sequence[Mapping[str, Any]]]]
) -> list[tuple[Plan, Sequence[Mapping[str, Any]]]] | None:
    """Each write's plan, when all of them can go as one statement; None otherwise: SQLite,
    nothing to write, too many, or one that cannot be a ``WITH`` clause (it returns rows, has
    clauses of its own, or has several rows that are not a plain ``INSERT … VALUES``)."""
    if conn.dialect.name != "postgresql" or not 0 < len(writes) <= _TOGETHER_MAX:
        return None
    plans = []
    for prebuilt, rows in writes:
        plan = prebuilt.plan(conn, rows[0], many=len(rows) > 1)
        if plan is None or plan.row is not None or plan.sql.startswith(b"WITH"):
            return None
        if len(rows) > 1 and (not plan.rows_at_once or len(rows) > _ROWS_MAX):
            return None
        plans.append((plan, rows))
    return plans


@cache
def _with_sql(parts: tuple[tuple[bytes, int], ...]) -> bytes:
    """Writes of ``n`` rows each as one statement: ``WITH w0 AS (INSERT …), … UPDATE …``,
    their placeholders numbered on from one write to the next."""
    texts: list[bytes] = []
    offset = 0
    for sql, n in parts:
        rows = _rows_sql(sql, n) if n > 1 else sql
        texts.append(_shifted(rows, offset))
        offset += len(PLACEHOLDER.findall(rows))
    clauses = [b"w%d AS (%s)" % (i, text) for i, text in enumerate(texts[:-1])]
    return (b"WITH " + b", ".join(clauses) + b" " if clauses else b"") + texts[-1]


class _translated:
    """A psycopg cursor on ``conn``'s connection. A driver error goes through SQLAlchemy's own
    handling (``Connection._handle_dbapi_exception``, pinned with SQLAlchemy's version): the
    same exception classes, and on a lost connection the same invalidation of it and of the
    pool's older connections, as if SQLAlchemy had run the statement."""

    __slots__ = ("conn", "cursor", "params", "sql")

    def __init__(self, conn: Connection, sql: str, params: Any) -> None:
        self.conn, self.sql, self.params = conn, sql, params

    def __enter__(self) -> RawCursor[Any] | _AwaitedCursor:
        begin_deferred(self.conn)
        driver = _driver(self.conn)
        if isinstance(driver, db_driver.AsyncConnection):
            self.cursor: RawCursor[Any] | _AwaitedCursor = _AwaitedCursor(driver.raw_cursor())
        else:
            self.cursor = driver.raw_cursor()
        return self.cursor

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        # The cursor is the connection's own (``driver.raw_cursor``): kept open for the next
        # statement. SQLAlchemy closes it on an error; the connection then makes another.
        if exc is not None and isinstance(exc, self.conn.dialect.loaded_dbapi.Error):
            cursor = cast(DBAPICursor, self.cursor)
            self.conn._handle_dbapi_exception(exc, self.sql, self.params, cursor, None)


class _AwaitedCursor:
    """psycopg's asynchronous raw cursor, used from synchronous code that runs in a greenlet
    on the event loop (``engine.make_loop_engine``): each wait for the database goes back to
    the loop, as SQLAlchemy's own asynchronous adaptation of psycopg does."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: AsyncRawCursor[Any]) -> None:
        self._cursor = cursor

    def execute(
        self, sql: bytes, values: Sequence[Any] | None, *, prepare: bool | None = None
    ) -> None:
        await_(_execute_fetch(self._cursor, sql, values, prepare, rows=False))

    def executemany(self, sql: bytes, values: Sequence[Sequence[Any]]) -> None:
        await_(self._cursor.executemany(sql, values))

    def fetched(
        self, sql: bytes, values: Sequence[Any] | None, *, prepare: bool | None = None
    ) -> list[Any]:
        """Execute and fetch in one trip through the event loop (each costs a greenlet
        switch each way, about a tenth of a statement's CPU)."""
        return await_(_execute_fetch(self._cursor, sql, values, prepare))

    def close(self) -> None:
        """Nothing to do (SQLAlchemy closes a cursor after an error): a client-side cursor
        holds no server resource, and the connection keeps this one for its next statement."""


async def _execute_fetch(
    cursor: AsyncRawCursor[Any],
    sql: bytes,
    values: Sequence[Any] | None,
    prepare: bool | None,
    *,
    rows: bool = True,
) -> Any:
    if prepare is not False and values is not None:
        driver = cast(db_driver.AsyncConnection, cursor.connection)
        found = await driver.run_prepared(sql, values)
        if found is not None:
            return found
    await cursor.execute(sql, values, prepare=prepare)
    return await cursor.fetchall() if rows else None
