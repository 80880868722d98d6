"""In-memory stand-ins for a unit of work: enough to run lifecycle rules without a database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tenure.domain.audit import Actor, AuditEntry
from tenure.domain.membership import Membership, Standing
from tenure.domain.organisation import Organisation


@dataclass
class FakeMemberships:
    rows: dict[str, Membership] = field(default_factory=dict)
    saved: list[str] = field(default_factory=list)

    def standing(self, room_id: str, user_ids: Iterable[str]) -> dict[str, Standing]:
        return {
            u: Standing.of(m for m in self.rows.values() if (m.room_id, m.user_id) == (room_id, u))
            for u in set(user_ids)
        }

    def active_in(self, room_id: str, user_ids: Iterable[str]) -> dict[str, Membership]:
        ids = set(user_ids)
        return {
            m.user_id: m
            for m in self.rows.values()
            if m.room_id == room_id and m.user_id in ids and m.is_active
        }

    def of_users(self, user_ids: Iterable[str], *, status: str | None = None) -> list[Membership]:
        ids = set(user_ids)
        return [
            m
            for m in self.rows.values()
            if m.user_id in ids and (status is None or m.status.value == status)
        ]

    def add_many(self, created: Sequence[Membership], request_id: str | None) -> None:
        for m in created:
            self.rows[m.id] = m

    def save_many(self, changed: Sequence[Membership], request_id: str | None) -> None:
        self.saved.extend(m.id for m in changed)

    def save_source(self, m: Membership) -> None:
        self.saved.append(m.id)


@dataclass
class FakeAudit:
    entries: list[AuditEntry] = field(default_factory=list)

    def add(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        self.entries.extend(entries)


@dataclass
class FakeUnitOfWork:
    org: Organisation
    memberships: FakeMemberships = field(default_factory=FakeMemberships)
    audit: FakeAudit = field(default_factory=FakeAudit)
    actor: Actor = field(default_factory=lambda: Actor("scim_token", "t1"))
    request_id: str | None = "req-1"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def org_id(self) -> str:
        return self.org.id

    def organisation(self) -> Organisation:
        return self.org
