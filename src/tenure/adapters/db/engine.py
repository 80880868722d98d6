"""Engines for SQLite (a file, zero set-up) and PostgreSQL, tuned for a SCIM workload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import greenlet_spawn

from tenure.adapters.db import driver
from tenure.adapters.db.kept import keep_connections, kept_for
from tenure.adapters.db.prebuilt import begin_deferred

POOL_RECYCLE_SECONDS = 3600


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# JSON columns (profiles, permissions, audit details) are written on every SCIM write: orjson
# encodes them several times faster than the standard library, the same JSON either way.
_JSON: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}


def make_engine(
    url: str, *, pool_size: int = 8, pooled: bool = True, pre_ping: bool = False
) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and immediate write locks.

    ``pooled=False`` closes each connection when it is returned: right for one-shot commands.
    ``pre_ping`` tests a pooled connection before handing it out (a round trip), so a request
    never meets a connection a database restart has closed.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if not pooled:
        engine = create_engine(url, poolclass=NullPool, **_JSON)
    else:
        engine = create_engine(url, **_pooled(pool_size), pool_pre_ping=pre_ping)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return driver.Connection.connect(*cargs, **cparams)

    return _deferring(engine)


def make_loop_engine(url: str, *, pool_size: int = 8) -> AsyncEngine | None:
    """For PostgreSQL, an engine whose connections wait on the event loop: synchronous code
    run by :func:`sqlalchemy.util.greenlet_spawn` uses its ``sync_engine`` as any other, and
    each wait for the database hands the loop back to other requests. None for SQLite, whose
    driver has no such mode."""
    if make_url(url).get_backend_name() == "sqlite":
        return None
    # Only units of work use it, and each ends its transaction (commit or rollback) before
    # the connection goes back: the pool's own rollback on return would be a second one,
    # and here every call to the driver costs a trip through the event loop.
    options = _pooled(pool_size)
    options["connect_args"]["async_creator_fn"] = driver.AsyncConnection.connect
    engine = create_async_engine(url, **options, pool_reset_on_return=None)
    _deferring(engine.sync_engine)
    keep_connections(engine.sync_engine, recycle=POOL_RECYCLE_SECONDS)

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle(_dbapi_conn: Any, record: Any) -> None:
        # A connection in the pool is closed or renewed by the pool: its socket unwatched.
        conn = record.driver_connection
        if isinstance(conn, driver.AsyncConnection):
            conn.stop_watching()

    return engine


async def dispose_loop_engine(engine: AsyncEngine) -> None:
    """Give the kept connections back to the pool, then close every connection."""
    kept = kept_for(engine.sync_engine)
    if kept is not None:
        await greenlet_spawn(kept.clear)
    await engine.dispose()


def _deferring(engine: Engine) -> Engine:
    """A write's transaction may wait for its first statement (``prebuilt.open_mode``); the
    statements SQLAlchemy runs itself begin it here, the prebuilt ones where they run."""

    @event.listens_for(engine, "before_cursor_execute")
    def _begin(conn: Connection, *_args: Any) -> None:
        begin_deferred(conn)

    return engine


def _pooled(pool_size: int) -> dict[str, Any]:
    return {
        **_JSON,
        # A fixed pool: a request beyond it waits for a connection. A connection opened for a
        # peak and closed after it costs a backend's start and its prepared statements each
        # time: with 8 more allowed, 16 concurrent look-ups ran at 1,751/s, without at 2,851/s.
        "pool_size": pool_size,
        "max_overflow": 0,
        # Connections are recycled hourly. On the SCIM engine no pre-ping (a round trip per
        # request): a use case whose connection a database restart broke runs again
        # (uow.retry_races).
        "pool_recycle": POOL_RECYCLE_SECONDS,
        # One statement cache per connection keeps hot SCIM queries prepared.
        "connect_args": {"prepare_threshold": 2},
    }


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        poolclass=NullPool if database in (None, "", ":memory:") else None,
        connect_args={"check_same_thread": False, "timeout": 30},
        **_JSON,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the lock up front, so two writers queue instead of deadlocking
        # on a lock upgrade; readers stay concurrent under WAL.
        mode = "IMMEDIATE" if conn.get_execution_options().get("write", True) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
