"""Restore records and restore requests of one organisation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from tenure.adapters.db.repositories.base import TenantRepository
from tenure.adapters.db.rows import plain
from tenure.adapters.db.tables import restore_requests, restores


class RestoreRepository(TenantRepository):
    def add(self, record: dict[str, Any]) -> None:
        self.conn.execute(insert(restores).values(org_id=self.org_id, **record))

    def get(self, restore_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        stmt = select(restores).where(self.scoped(restores), restores.c.id == restore_id)
        if lock:
            stmt = self._lock(stmt)
        row = self.conn.execute(stmt).first()
        return plain(row) if row else None

    def mark_undone(self, restore_id: str, at: datetime) -> None:
        self.conn.execute(
            update(restores)
            .where(self.scoped(restores), restores.c.id == restore_id)
            .values(status="undone", undone_at=at)
        )

    def page(
        self, *, before: str | None = None, limit: int = 100, batch_id: str | None = None
    ) -> list[dict[str, Any]]:
        stmt = select(restores).where(self.scoped(restores))
        if batch_id:
            stmt = stmt.where(restores.c.batch_id == batch_id)
        if before:
            stmt = stmt.where(restores.c.id < before)
        stmt = stmt.order_by(restores.c.id.desc()).limit(limit)
        return [plain(r) for r in self.conn.execute(stmt)]

    # -- restore requests ------------------------------------------------------------------

    def add_request(self, record: dict[str, Any]) -> None:
        self.conn.execute(insert(restore_requests).values(org_id=self.org_id, **record))

    def request(self, request_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        stmt = select(restore_requests).where(
            self.scoped(restore_requests), restore_requests.c.id == request_id
        )
        if lock:
            stmt = self._lock(stmt)
        row = self.conn.execute(stmt).first()
        return plain(row) if row else None

    def decide_request(self, request_id: str, **values: Any) -> None:
        self.conn.execute(
            update(restore_requests)
            .where(self.scoped(restore_requests), restore_requests.c.id == request_id)
            .values(**values)
        )

    def requests(
        self, *, status: str | None = None, before: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        stmt = select(restore_requests).where(self.scoped(restore_requests))
        if status:
            stmt = stmt.where(restore_requests.c.status == status)
        if before:
            stmt = stmt.where(restore_requests.c.id < before)
        stmt = stmt.order_by(restore_requests.c.id.desc()).limit(limit)
        return [plain(r) for r in self.conn.execute(stmt)]
