"""What a running app holds: settings, the engine, and short-lived credential caches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from tenure.adapters.db.engine import dispose_loop_engine
from tenure.adapters.db.uow import PlatformUnitOfWork, SqlUnitOfWork, retry_races
from tenure.domain.audit import Actor
from tenure.domain.credentials import secret_hash
from tenure.settings import Settings
from tenure.web import greenlets

T = TypeVar("T")
CREDENTIAL_CACHE_SECONDS = 5.0  # a revoked token stops working within this many seconds


@dataclass(slots=True)
class Runtime:
    """``engine`` serves the admin API and the console (their handlers run on threads);
    ``loop_engine``, on PostgreSQL, serves SCIM on the event loop (see :meth:`run_scim`)."""

    settings: Settings
    engine: Engine
    loop_engine: AsyncEngine | None = None
    _tokens: dict[str, tuple[float, tuple[str, str] | None]] = field(default_factory=dict)
    _keys: dict[str, tuple[float, tuple[str, str | None, str] | None]] = field(default_factory=dict)
    _executor: ThreadPoolExecutor | None = None

    async def run_scim(self, work: Callable[[], T]) -> T:
        """Run a SCIM use case (synchronous code) for a request.

        On PostgreSQL it runs on the event loop, in a greenlet (kept for the next request:
        ``greenlets``): each wait for the database hands the loop back to other requests, so
        waits overlap as they would on threads, and no request pays the hop to a thread and
        back (about a third of a look-up's CPU, measured: docs/performance.md). On SQLite it
        runs on a thread of :attr:`executor`.
        """
        if self.loop_engine is not None:
            return await greenlets.run(work)
        return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    @property
    def scim_engine(self) -> Engine:
        """The engine SCIM use cases use (only from :meth:`run_scim`)."""
        return self.loop_engine.sync_engine if self.loop_engine is not None else self.engine

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The threads SCIM use cases run on with SQLite: as many as the pool has connections,
        and its overflow, so a request waits for a thread rather than for a connection."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=2 * self.settings.db_pool_size, thread_name_prefix="tenure-scim"
            )
        return self._executor

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self.loop_engine is not None:
            await dispose_loop_engine(self.loop_engine)
        self.engine.dispose()

    def uow(
        self, org_id: str, actor: Actor, request_id: str | None, *, write: bool = True
    ) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, org_id, actor, request_id, write=write)

    def scim_uow(
        self, org_id: str, actor: Actor, request_id: str | None, *, write: bool = True
    ) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.scim_engine, org_id, actor, request_id, write=write)

    def platform(self, *, write: bool = False) -> PlatformUnitOfWork:
        return PlatformUnitOfWork(self.engine, write=write)

    def _read(self, look: Callable[[PlatformUnitOfWork], T], engine: Engine) -> T:
        with PlatformUnitOfWork(engine, write=False) as uow:
            return look(uow)

    def cached_scim_token(self, secret: str) -> tuple[bool, tuple[str, str] | None]:
        """(known, answer) from the cache alone: no I/O, safe on the event loop."""
        cached = self._tokens.get(secret_hash(secret))
        if cached is not None and cached[0] > time.monotonic():
            return True, cached[1]
        return False, None

    def scim_token(self, secret: str) -> tuple[str, str] | None:
        """(token id, org id) for a live SCIM token."""
        digest = secret_hash(secret)
        now = time.monotonic()
        cached = self._tokens.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = retry_races(
            lambda: self._read(lambda uow: uow.platform.token_by_hash(digest), self.scim_engine)
        )
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        self._tokens[digest] = (now + CREDENTIAL_CACHE_SECONDS, found)
        return found

    def api_key(self, secret: str) -> tuple[str, str | None, str] | None:
        """(key id, org id or None, role) for a live admin API key."""
        digest = secret_hash(secret)
        now = time.monotonic()
        cached = self._keys.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = retry_races(
            lambda: self._read(lambda uow: uow.platform.api_key_by_hash(digest), self.engine)
        )
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[digest] = (now + CREDENTIAL_CACHE_SECONDS, found)
        return found
