"""Connections kept checked out between the units of work of one event loop."""

from __future__ import annotations

import time
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine
from sqlalchemy.pool import QueuePool


class KeptConnections:
    """An engine's connections, kept checked out between its units of work.

    Taking a connection from SQLAlchemy's pool and giving it back cost about 8 % of a look-up's
    CPU (its connection records and wrappers, not the queue). A unit of work here takes the
    last connection given back, and gives its own back when it ends (its transaction ended);
    one is taken from the pool only when none is kept.

    An engine whose connections are used only on the event loop (``engine.make_loop_engine``)
    gets them (:func:`keep_connections`), and every unit of work on it then uses them
    (:func:`kept_for`): one that waited on the pool behind them unseen would never get a
    connection back. Units of work there run in greenlets one step at a time, so nothing here
    needs a lock. Three rules keep the pool in charge:

    - when every connection is out and a unit of work has to wait for the pool, connections
      given back go to the pool (which hands them to the waiting one), not to this list;
    - a connection found invalidated (a statement on it lost the server) empties the list:
      the others may be dead too, and the pool renews what a lost server left it;
    - a connection kept longer than ``recycle`` seconds goes back to the pool, which renews it
      on its own schedule.
    """

    __slots__ = ("_engine", "_idle", "_recycle", "_taken", "_waiting")

    def __init__(self, engine: Engine, *, recycle: float) -> None:
        self._engine = engine
        self._recycle = recycle
        self._idle: list[Connection] = []
        self._taken: dict[Connection, float] = {}  # when each connection left the pool
        self._waiting = 0  # units of work waiting for the pool

    def take(self) -> Connection:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.invalidated and now - self._taken[conn] < self._recycle:
                return conn
            self._return(conn)
        pool = self._engine.pool
        must_wait = isinstance(pool, QueuePool) and pool.checkedout() >= pool.size()
        self._waiting += must_wait
        try:
            conn = self._engine.connect()
        finally:
            self._waiting -= must_wait
        self._taken[conn] = now
        return conn

    def give(self, conn: Connection) -> None:
        """Keep ``conn`` for the next unit of work; its own transaction has ended."""
        if conn.invalidated:
            self.clear()
        if conn.invalidated or conn.closed or self._waiting:
            self._return(conn)
            return
        if conn.in_transaction():  # a read's statement run through SQLAlchemy began one
            conn.rollback()
        self._idle.append(conn)

    def clear(self) -> None:
        """Give every kept connection back to the pool (a lost server, or shutting down)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            self._return(conn)

    def _return(self, conn: Connection) -> None:
        self._taken.pop(conn, None)
        conn.close()


_KEPT: WeakKeyDictionary[Engine, KeptConnections] = WeakKeyDictionary()


def keep_connections(engine: Engine, *, recycle: float) -> None:
    """Keep ``engine``'s connections between units of work (event-loop engines only)."""
    _KEPT[engine] = KeptConnections(engine, recycle=recycle)


def kept_for(engine: Engine) -> KeptConnections | None:
    """The kept connections of ``engine``, if it keeps them."""
    return _KEPT.get(engine)
