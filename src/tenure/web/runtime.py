"""What a running app holds: settings, the engine, and short-lived credential caches."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine

from tenure.adapters.db.uow import PlatformUnitOfWork, SqlUnitOfWork, retry_races
from tenure.domain.audit import Actor
from tenure.domain.credentials import secret_hash
from tenure.settings import Settings

T = TypeVar("T")
CREDENTIAL_CACHE_SECONDS = 5.0  # a revoked token stops working within this many seconds


@dataclass(slots=True)
class Runtime:
    settings: Settings
    engine: Engine
    _tokens: dict[str, tuple[float, tuple[str, str] | None]] = field(default_factory=dict)
    _keys: dict[str, tuple[float, tuple[str, str | None, str] | None]] = field(default_factory=dict)
    _executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The threads SCIM use cases run on: as many as the pool has connections, and its
        overflow, so a request waits for a thread rather than for a connection. A plain
        executor: no capacity limiter, cancel scope or context copy per hop, none of which a
        use case needs. (Running use cases on the event loop instead was measured slower: see
        docs/performance.md.)
        """
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=2 * self.settings.db_pool_size, thread_name_prefix="tenure-scim"
            )
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self.engine.dispose()

    def uow(
        self, org_id: str, actor: Actor, request_id: str | None, *, write: bool = True
    ) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, org_id, actor, request_id, write=write)

    def platform(self, *, write: bool = False) -> PlatformUnitOfWork:
        return PlatformUnitOfWork(self.engine, write=write)

    def _read(self, look: Callable[[PlatformUnitOfWork], T]) -> T:
        with self.platform() as uow:
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
        found = retry_races(lambda: self._read(lambda uow: uow.platform.token_by_hash(digest)))
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
        found = retry_races(lambda: self._read(lambda uow: uow.platform.api_key_by_hash(digest)))
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[digest] = (now + CREDENTIAL_CACHE_SECONDS, found)
        return found
