"""The audit log of one organisation: appended in the transaction of the change it records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from tenure.adapters.db.held import HeldWrites
from tenure.adapters.db.prebuilt import Prebuilt
from tenure.adapters.db.repositories.base import TenantRepository
from tenure.adapters.db.tables import audit_log
from tenure.domain.audit import AuditEntry


class AuditRepository(TenantRepository):
    """Within a unit of work that holds writes, entries wait for its commit and go in the
    same statement as the other held writes, inside its transaction: a change and its audit
    trail commit together. Without one (a platform transaction's tenant view), they are
    written at once."""

    def __init__(self, conn: Connection, org_id: str, held: HeldWrites | None = None) -> None:
        super().__init__(conn, org_id, held)
        self._pending: list[AuditEntry] = []

    def add(self, entry: AuditEntry) -> None:
        self.add_many([entry])

    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        self._pending.extend(entries)
        if self._held is None:
            self.flush()

    def flush(self) -> None:
        entries, self._pending = self._pending, []
        if not entries:
            return
        self.hold(
            _INSERT,
            [
                {
                    "org_id": self.org_id,
                    "at": e.at,
                    "actor": str(e.actor),
                    "action": e.action.value,
                    "resource_type": e.resource_type,
                    "resource_id": e.resource_id,
                    "request_id": e.request_id,
                    "detail": e.detail,
                }
                for e in entries
            ],
        )

    def page(
        self,
        *,
        action: str | None = None,
        resource_id: str | None = None,
        actor: str | None = None,
        request_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Newest first; ``before_id`` is the cursor."""
        stmt = select(audit_log).where(self.scoped(audit_log))
        if action:
            stmt = stmt.where(
                audit_log.c.action.like(action.replace("*", "%"))
                if "*" in action
                else audit_log.c.action == action
            )
        if resource_id:
            stmt = stmt.where(audit_log.c.resource_id == resource_id)
        if actor:
            stmt = stmt.where(audit_log.c.actor == actor)
        if request_id:
            stmt = stmt.where(audit_log.c.request_id == request_id)
        if since:
            stmt = stmt.where(audit_log.c.at >= since)
        if until:
            stmt = stmt.where(audit_log.c.at < until)
        if before_id:
            stmt = stmt.where(audit_log.c.id < before_id)
        stmt = stmt.order_by(audit_log.c.id.desc()).limit(limit)
        return [dict(r._mapping) for r in self.conn.execute(stmt)]


_INSERT = Prebuilt(insert(audit_log).inline())  # no RETURNING of ids: nothing reads them back
