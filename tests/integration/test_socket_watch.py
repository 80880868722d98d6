"""SCIM's connections keep the event loop's watch on their socket from one wait to the next
(``driver._Watch``). What must hold whatever happens to the socket: an interrupted query is
cancelled in the server, a statement too large for one send goes out, and a socket the server
or libpq closed never leaves a watch behind for the next connection to trip on (on uvloop, the
server's loop, a stale watch on a reused descriptor would leave the new connection deaf).

The watch's periodic check answers a wait left unanswered (uvloop drops a reset socket without
a word); tests of sockets in good health turn it off (``no_checks``), so a watch that stopped
hearing its socket hangs there instead of being rescued a tenth of a second later."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import uvloop

from tenure.adapters.db.driver import AsyncConnection, _Watch
from tenure.adapters.db.engine import make_loop_engine
from tests.integration.pg_only import pg_url
from tests.integration.test_lost_connection import _drop_connections

__all__ = ["pg_url"]  # fixtures


@pytest.fixture()
def no_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Watch, "CHECK_EVERY", 3600.0)


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _on_uvloop(check: Callable[[], Awaitable[None]]) -> None:
    """``check`` on uvloop (as the server runs), on a thread of its own, bounded in time: a
    connection that no longer hears its socket hangs rather than fails."""

    async def bounded() -> None:
        await asyncio.wait_for(check(), timeout=15)

    with ThreadPoolExecutor(1) as thread:
        thread.submit(uvloop.run, bounded()).result()


async def _one(conn: psycopg.AsyncConnection, sql: str = "SELECT 1") -> object:
    row = await (await conn.execute(sql)).fetchone()
    return row[0] if row else None


async def _watched(dsn: str) -> AsyncConnection:
    """A connection that has made a round trip, so the loop watches its socket."""
    conn = await AsyncConnection.connect(dsn, autocommit=True)
    assert await _one(conn) == 1
    return conn


async def _end_sessions(url: str) -> None:
    """What a restart does to the test database's sessions (off the loop: it waits for them)."""
    assert await asyncio.to_thread(_drop_connections, url) >= 1


async def _next_connection_is_heard(dsn: str, fd: int) -> None:
    after = await AsyncConnection.connect(dsn, autocommit=True)
    try:
        assert after.pgconn.socket == fd  # the same descriptor, handed out again
        for n in range(3):
            assert await _one(after, f"SELECT {n}") == n
    finally:
        await after.close()


def test_an_interrupted_query_is_cancelled_in_the_server_and_the_connection_goes_on(
    pg_url: str, no_checks: None
) -> None:
    dsn = _dsn(pg_url)

    async def check() -> None:
        conn = await _watched(dsn)
        try:
            started = time.monotonic()
            sleeping = asyncio.ensure_future(conn.execute("SELECT pg_sleep(20)"))
            await asyncio.sleep(0.3)
            sleeping.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sleeping
            assert time.monotonic() - started < 10  # the server stopped sleeping
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            assert await _one(conn, "SELECT 2") == 2
        finally:
            await conn.close()

    _on_uvloop(check)


def test_a_statement_larger_than_one_send_goes_out_and_later_ones_are_heard(
    pg_url: str, no_checks: None
) -> None:
    dsn = _dsn(pg_url)
    big = "x" * 8_000_000  # far more than a socket's send buffer: psycopg waits to write

    async def check() -> None:
        conn = await AsyncConnection.connect(dsn, autocommit=True)
        try:
            for _ in range(2):
                assert await _one(conn) == 1
                cur = await conn.execute("SELECT length(%s)", [big])
                assert await cur.fetchone() == (len(big),)
            assert await _one(conn, "SELECT 3") == 3
        finally:
            await conn.close()

    _on_uvloop(check)


def test_a_session_the_server_ended_while_idle_leaves_nothing_for_the_next_connection(
    pg_url: str,
) -> None:
    dsn = _dsn(pg_url)

    async def check() -> None:
        conn = await _watched(dsn)
        fd = conn.pgconn.socket
        await _end_sessions(pg_url)
        await asyncio.sleep(0.3)  # the socket turns readable with nobody waiting
        with pytest.raises(psycopg.OperationalError):
            await _one(conn)
        await conn.close()
        await _next_connection_is_heard(dsn, fd)

    _on_uvloop(check)


def test_a_session_the_server_ended_during_a_query_leaves_nothing_for_the_next_connection(
    pg_url: str,
) -> None:
    """libpq closes the socket itself, inside the wait, before anyone calls ``close``."""
    dsn = _dsn(pg_url)

    async def check() -> None:
        conn = await _watched(dsn)
        fd = conn.pgconn.socket
        sleeping = asyncio.ensure_future(conn.execute("SELECT pg_sleep(20)"))
        await asyncio.sleep(0.3)
        await _end_sessions(pg_url)
        with pytest.raises(psycopg.OperationalError):
            await sleeping
        try:
            await _next_connection_is_heard(dsn, fd)
        finally:
            await conn.close()

    _on_uvloop(check)


def test_a_connection_closed_while_watched_leaves_nothing_for_the_next_one(
    pg_url: str, no_checks: None
) -> None:
    dsn = _dsn(pg_url)

    async def check() -> None:
        for n in range(3):
            conn = await AsyncConnection.connect(dsn, autocommit=True)
            try:
                assert await _one(conn, f"SELECT {n}") == n
                assert await _one(conn, f"SELECT {n + 1}") == n + 1
            finally:
                await conn.close()

    _on_uvloop(check)


def test_a_socket_the_loop_serves_itself_after_a_watched_connection_closed_is_heard(
    pg_url: str, no_checks: None
) -> None:
    """The descriptor of a closed connection, handed to one of the loop's own transports
    (what an HTTP client's socket is in the server)."""
    dsn = _dsn(pg_url)

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readexactly(4))
        await writer.drain()
        writer.close()

    async def check() -> None:
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            conn = await _watched(dsn)
            fd = conn.pgconn.socket
            await conn.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert writer.get_extra_info("socket").fileno() == fd
            writer.write(b"ping")
            assert await reader.readexactly(4) == b"ping"
            writer.close()
        finally:
            server.close()

    _on_uvloop(check)


def test_a_connection_given_back_to_the_pool_is_no_longer_watched(
    pg_url: str, no_checks: None
) -> None:
    """The pool closes and renews connections on its own schedule, not through a wait."""

    async def check() -> None:
        engine = make_loop_engine(pg_url, pool_size=1)
        assert engine is not None
        try:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
                raw = (await conn.get_raw_connection()).driver_connection
                assert isinstance(raw, AsyncConnection) and raw._watch is not None
            assert raw._watch is None
            async with engine.connect() as conn:  # the same connection, watched again
                assert (await conn.exec_driver_sql("SELECT 5")).scalar() == 5
        finally:
            await engine.dispose()

    _on_uvloop(check)


def test_an_idle_connection_leaves_the_loop_asleep(pg_url: str) -> None:
    """Its watch's check lapses once no wait is left (the loop is not woken ten times a
    second per pooled connection), and the next wait starts it again."""
    dsn = _dsn(pg_url)

    async def check() -> None:
        conn = await _watched(dsn)
        try:
            watch = conn._watch
            assert watch is not None and watch.timer is not None
            await asyncio.sleep(3 * _Watch.CHECK_EVERY)
            assert watch.timer is None and conn._watch is watch
            # a wait longer than two checks: answered early and waiting again, not lost
            assert await _one(conn, "SELECT 7 FROM pg_sleep(0.25)") == 7
            assert watch.timer is not None  # a wait came, and the check with it
        finally:
            await conn.close()

    _on_uvloop(check)


def test_a_connection_goes_on_under_a_later_event_loop(pg_url: str, no_checks: None) -> None:
    dsn = _dsn(pg_url)
    conns: list[AsyncConnection] = []

    async def first() -> None:
        conns.append(await AsyncConnection.connect(dsn, autocommit=True))
        assert await _one(conns[0]) == 1

    async def second() -> None:
        try:
            assert await _one(conns[0], "SELECT 2") == 2
            assert await _one(conns[0], "SELECT 3") == 3
        finally:
            await conns[0].close()

    _on_uvloop(first)
    _on_uvloop(second)
