"""psycopg connections that keep their prepared statements across a ROLLBACK, and one cursor;
SCIM's also plan the statements of their write transactions generically.

psycopg forgets every statement it has prepared when a transaction rolls back, and sends
``DEALLOCATE ALL``: a transaction that created a table and prepared a statement on it could
otherwise leave a statement behind that names a table which no longer exists. PostgreSQL itself
keeps prepared statements through a rollback (they belong to the session, not the transaction).

Tenure's units of work never change the schema (migrations run on connections of their own), and
they roll back often: every error a client sees (409, 404, 412, a bad PATCH) and every change
that turns out to change nothing. Each of those cost the connection all its prepared statements,
so the statements that followed were parsed and planned again (and planned for their values, not
generically, for their next five runs). These connections roll back and keep them.

Each also keeps the raw cursor that runs Tenure's prebuilt statements (``raw_cursor``). A cursor
made per statement started with no adapters: it copied the connection's map, and looked up the
dumpers of the parameters and the loaders of the columns again (about a tenth of a look-up's CPU
in the driver). The kept one keeps them while it runs the same statement again, and a unit of
work runs its statements one after another, so no two ever share it at once.

The connections that serve SCIM (``AsyncConnection``) begin a write transaction with ``BEGIN;
SET LOCAL plan_cache_mode = force_generic_plan``, in the one round trip psycopg's ``BEGIN``
takes. Most statements of those transactions are keyed by ids (a group locked, one member
added or removed with the memberships of the people, the held writes), and PostgreSQL's
default kept planning the member statements anew for their values at every run: about 0.4 ms
of a one-member change, for a plan that in a small room scanned the whole room where the
generic plan looks the person up (``docs/performance.md``). A statement whose best plan does
depend on its values (all the members of one group: from one to 20k rows) is sent with its
values written in, unprepared, so PostgreSQL plans it for them in any mode
(``prebuilt._once_for_values``). ``LOCAL`` ends with the transaction: reads, in autocommit,
keep PostgreSQL's default.

Their waits to read (every round trip) go through a watch the event loop keeps on the socket
while the connection is in use (``_Watch``), not psycopg's reader, timer and future added and
taken away at each one: on the twelfth machine a query's client CPU 42 → 29 µs, and 8 to 12 %
less server CPU per look-up (``docs/performance.md``). The watch comes off before the socket
can close (``close``, a lost connection, the pool taking the connection back) and whenever
psycopg's own wait runs (a wait to write, a timeout, an interrupted query, which psycopg
cancels in the server): a watch left on a closed descriptor would leave deaf whatever socket
is given that number next, the loop's own HTTP connections included.

They run Tenure's prebuilt statements straight on libpq (``run_prepared``): the values dumped
by the connection's adapters, the statement prepared under a name of the connection's own at
its second run, the rows loaded as tuples. psycopg's cursor spent about 40 % of a statement's
client CPU on its own bookkeeping around the same calls; a look-up's server CPU fell by about
7 % (``docs/performance.md``). A statement sent with its values written in goes through
psycopg's cursor as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import psycopg
from psycopg import errors, generators, pq
from psycopg.abc import PQGen
from psycopg.abc import Transformer as Adapting
from psycopg.adapt import PyFormat, Transformer
from psycopg.waiting import READY_R, WAIT_R, Wait

RV = TypeVar("RV")

_Cursor = TypeVar("_Cursor", psycopg.RawCursor[Any], psycopg.AsyncRawCursor[Any])
_BEGIN_GENERIC = b"BEGIN; SET LOCAL plan_cache_mode = force_generic_plan"
_NAMED_MAX = 256  # statements a SCIM connection prepares under its own names; more go by psycopg
_SEEN_MAX = 4096  # statements remembered as run once, to be prepared at their second run
_OK = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)


class _KeepsPrepared(psycopg.BaseConnection[Any]):
    def _rollback_gen(self) -> PQGen[None]:
        # Transaction blocks, two-phase commits and pipelines keep psycopg's own handling.
        if self._num_transactions or self._tpc or self._pipeline:
            return (yield from super()._rollback_gen())
        if self.pgconn.transaction_status == pq.TransactionStatus.IDLE:
            return None
        yield from self._exec_command(b"ROLLBACK")
        return None


class _KeepsCursor(Generic[_Cursor]):
    """Keeps the raw cursor of a connection's prebuilt statements (see the module's text)."""

    _cursor_class: Callable[[Any], _Cursor]
    _raw: _Cursor | None = None

    def raw_cursor(self) -> _Cursor:
        """The cursor for prebuilt statements, made at first use (again after a close)."""
        if self._raw is None or self._raw.closed:
            self._raw = self._cursor_class(self)
        return self._raw


class Connection(_KeepsCursor[psycopg.RawCursor[Any]], _KeepsPrepared, psycopg.Connection[Any]):
    """A synchronous connection (the admin API, the console, the command line)."""

    _cursor_class = psycopg.RawCursor


class _Watch:
    """The event loop's watch on a connection's socket, kept from one wait to the next.

    psycopg's wait adds a reader to the loop, a timer and a future at every wait, and takes
    the reader and the timer away again: two ``epoll_ctl`` calls and a timer per round trip to
    the database. Here the reader stays while the connection is in use, and each wait only
    hands it a future. Readable with nobody waiting (the server closed an idle connection), it
    stops watching; the next wait watches again.

    uvloop stops watching a socket that reports an error (a connection reset) for good,
    without calling back. So every ``CHECK_EVERY`` seconds a wait still unanswered since the
    last check is answered anyway: the connection reads what is there (the error, for a reset
    socket) or, finding nothing, waits again. One timer per connection while it has waits, not
    one per wait; a connection with none lets it lapse, and its next wait starts it again.
    """

    __slots__ = ("fileno", "future", "loop", "seen", "timer")
    CHECK_EVERY = 0.1

    def __init__(self, loop: asyncio.AbstractEventLoop, fileno: int) -> None:
        self.loop: asyncio.AbstractEventLoop | None = loop
        self.fileno = fileno
        self.future: asyncio.Future[None] | None = None
        self.seen: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        loop.add_reader(fileno, self._readable)

    def wait(self) -> asyncio.Future[None]:
        assert self.loop is not None
        future = self.future = self.loop.create_future()
        if self.timer is None:
            self.timer = self.loop.call_later(self.CHECK_EVERY, self._check)
        return future

    def _readable(self) -> None:
        future, self.future = self.future, None
        if future is None or future.done():
            self.stop()
        else:
            future.set_result(None)

    def _check(self) -> None:
        future, self.timer = self.future, None
        if future is not None and future is self.seen:
            self._readable()  # unanswered since the last check
        self.seen = future
        if self.loop is not None and future is not None:
            self.timer = self.loop.call_later(self.CHECK_EVERY, self._check)

    def stop(self) -> None:
        loop, self.loop = self.loop, None
        if self.timer is not None:
            self.timer.cancel()
        if loop is not None and not loop.is_closed():
            loop.remove_reader(self.fileno)


class _Resumed:
    """A psycopg generator handed back to psycopg's own wait in the middle: its next step
    raises ``error`` if there is one (psycopg then cancels the interrupted query), and the one
    after goes on from ``state``, where the generator waits."""

    __slots__ = ("error", "gen", "state")

    def __init__(self, gen: PQGen[Any], state: Wait, error: BaseException | None = None) -> None:
        self.gen, self.error = gen, error
        self.state: Wait | None = state

    def __iter__(self) -> _Resumed:
        return self

    def __next__(self) -> Any:
        return self.send(None)

    def send(self, value: Any) -> Any:
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        if self.state is not None:
            state, self.state = self.state, None
            return state
        return self.gen.send(value)


class AsyncConnection(
    _KeepsCursor[psycopg.AsyncRawCursor[Any]], _KeepsPrepared, psycopg.AsyncConnection[Any]
):
    """A connection whose waits go through the event loop (SCIM), its socket watched from one
    wait to the next (:class:`_Watch`)."""

    _cursor_class = psycopg.AsyncRawCursor
    _watch: _Watch | None = None
    # ``run_prepared``'s state, made at its first use: statement and types → name, those run
    # once, and the transformer that dumps values and loads rows.
    _named: dict[tuple[bytes, tuple[int, ...]], bytes] | None = None
    _named_next = 0
    _seen: set[tuple[bytes, tuple[int, ...]]]
    _tx: Adapting

    async def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        """Waits to read through the watch kept on the socket (:class:`_Watch`); anything else
        (a wait to write, a timeout, an interrupted query) through psycopg's own wait."""
        if timeout is not None:
            self.stop_watching()
            return await super().wait(gen, interval, timeout)
        try:
            state = next(gen)
            while state == WAIT_R:
                await self._until_readable()
                state = gen.send(READY_R)
        except StopIteration as done:
            if self.pgconn.status != pq.ConnStatus.OK:  # libpq closed the socket
                self.stop_watching()
            return done.value  # type: ignore[no-any-return]
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit) as error:
            self.stop_watching()
            return await super().wait(_Resumed(gen, state, error), interval)  # type: ignore[arg-type]
        except BaseException:
            self.stop_watching()
            raise
        self.stop_watching()  # a wait to write: a large statement fills the socket's buffer
        return await super().wait(_Resumed(gen, state), interval)  # type: ignore[arg-type]

    def _until_readable(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        watch = self._watch
        if watch is None or watch.loop is not loop:
            if watch is not None:
                watch.stop()
            watch = self._watch = _Watch(loop, self.pgconn.socket)
        return watch.wait()

    def stop_watching(self) -> None:
        """Take the watch off the socket: before the socket closes, and whenever psycopg's
        own wait is to add its reader."""
        if self._watch is not None:
            self._watch.stop()
            self._watch = None

    async def close(self) -> None:
        self.stop_watching()
        await super().close()

    async def run_prepared(self, sql: bytes, values: Sequence[Any]) -> list[tuple[Any, ...]] | None:
        """Run a prebuilt statement as a statement this connection prepared under its own name,
        straight on libpq: the rows as tuples (none for a write), or None, with nothing sent,
        when this does not apply (a pipeline, too many statements), and psycopg's cursor runs
        it instead. A transaction still to begin begins first, as psycopg's cursor begins it.

        psycopg's cursor wraps each execution in work of its own: a query object made and
        parsed again, its cache of prepared statements looked up and kept in order, the
        results checked and selected, the rows fetched through the cursor's state (48 of the
        124 µs of client CPU a look-up's statement took with it, thirteenth machine). Here the
        values are dumped by the connection's adapters as psycopg would (the same types, hence
        the same statement and plan), and a statement is prepared at its second run, as
        psycopg's ``prepare_threshold`` of 2 does. A unit of work runs one statement at a time
        on its connection, so one transformer serves them all.
        """
        pgconn = self.pgconn
        if self._pipeline:
            return None
        self._check_connection_ok()
        await self.wait(self._start_query())  # BEGIN first, if a transaction is to begin
        named = self._named
        if named is None:
            named, self._seen, self._tx = {}, set(), Transformer(self)
            self._named = named
        tx = self._tx
        params = tx.dump_sequence(values, [PyFormat.AUTO] * len(values))
        types, formats = tx.types or (), tx.formats
        key = (sql, types)
        name = named.get(key)
        if name is not None:
            pgconn.send_query_prepared(name, params, param_formats=formats)
        elif key not in self._seen:
            if len(self._seen) >= _SEEN_MAX:  # statements run once only, kept no longer
                self._seen.clear()
            self._seen.add(key)  # prepared if it runs again
            pgconn.send_query_params(sql, params, param_types=types, param_formats=formats)
        elif len(named) < _NAMED_MAX:
            name = b"tenure_%d" % self._named_next  # never reused: see ``_check``
            self._named_next += 1
            pgconn.send_prepare(name, sql, param_types=types)
            self._check(await self.wait(generators.execute(pgconn)))
            named[key] = name
            pgconn.send_query_prepared(name, params, param_formats=formats)
        else:
            return None
        try:
            result = self._check(await self.wait(generators.execute(pgconn)))
        except errors.InvalidSqlStatementName:
            if pgconn.transaction_status != pq.TransactionStatus.IDLE or self._named is not None:
                raise  # the transaction has failed: its unit of work ends with the error
            return await self.run_prepared(sql, values)  # a read: again, named anew
        if result.status != pq.ExecStatus.TUPLES_OK:
            return []
        tx.set_pgresult(result)
        rows: list[tuple[Any, ...]] = tx.load_rows(0, result.ntuples, tuple)
        return rows

    def _check(self, results: list[pq.abc.PGresult]) -> pq.abc.PGresult:
        result = results[-1]
        if result.status in _OK:
            return result
        if result.status == pq.ExecStatus.FATAL_ERROR:
            error = errors.error_from_result(result, encoding=self.pgconn._encoding)
            if isinstance(error, errors.InvalidSqlStatementName):
                self._named = None  # the server forgot them (DEALLOCATE ALL): prepare anew
            raise error
        raise errors.InterfaceError(f"unexpected result {pq.ExecStatus(result.status).name}")

    def _start_query(self) -> PQGen[None]:
        if self._autocommit or self.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return (yield from super()._start_query())  # no transaction to begin
        # Only the plain BEGIN psycopg would send (no isolation level or access mode set, no
        # pipeline) becomes BEGIN with generic plans.
        if self._pipeline or self._get_tx_start_command() != b"BEGIN":
            return (yield from super()._start_query())
        self._check_connection_ok()
        self.pgconn.send_query(_BEGIN_GENERIC)
        for result in (yield from generators.execute(self.pgconn)):
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise errors.error_from_result(result, encoding=self.pgconn._encoding)
        return None

    def set_autocommit_idle(self, value: bool) -> bool:
        """Set autocommit at once, without psycopg's trip through the event loop, when the
        connection is idle (no transaction, no pipeline): then the change is only a flag, the
        check psycopg makes first has nothing to wait for, and the unit of work that owns the
        connection is its only user. False, and nothing set, otherwise."""
        if self._pipeline or self.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        self._autocommit = bool(value)
        return True
