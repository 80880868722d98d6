"""Set-based drift queries: the database compares memberships with the IdP's groups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select

from tenure.adapters.db.repositories.base import TenantRepository
from tenure.adapters.db.tables import group_members, memberships, rooms, user_aliases, users


class DriftRepository(TenantRepository):
    def active_outside_group(self, limit: int = 1000) -> list[dict[str, Any]]:
        """Active memberships in group-linked rooms whose person is not in that group."""
        stmt = (
            select(
                memberships.c.id.label("membership_id"),
                memberships.c.user_id,
                memberships.c.room_id,
                memberships.c.source,
                rooms.c.name.label("room_name"),
                users.c.user_name,
            )
            .join(rooms, rooms.c.id == memberships.c.room_id)
            .join(users, users.c.id == memberships.c.user_id)
            .outerjoin(
                group_members,
                and_(
                    group_members.c.group_id == rooms.c.group_id,
                    group_members.c.user_id == memberships.c.user_id,
                ),
            )
            .where(
                self.scoped(memberships),
                memberships.c.status == "active",
                rooms.c.group_id.is_not(None),
                group_members.c.user_id.is_(None),
            )
            .order_by(memberships.c.id)
            .limit(limit)
        )
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def active_of_inactive_users(self, limit: int = 1000) -> list[dict[str, Any]]:
        stmt = (
            select(
                memberships.c.id.label("membership_id"),
                memberships.c.user_id,
                memberships.c.room_id,
                rooms.c.name.label("room_name"),
                users.c.user_name,
                users.c.deleted_at.is_not(None).label("deleted"),
            )
            .join(rooms, rooms.c.id == memberships.c.room_id)
            .join(users, users.c.id == memberships.c.user_id)
            .where(
                self.scoped(memberships),
                memberships.c.status == "active",
                or_(users.c.active.is_(False), users.c.deleted_at.is_not(None)),
            )
            .order_by(memberships.c.id)
            .limit(limit)
        )
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def duplicate_identities(self, limit: int = 500) -> list[dict[str, Any]]:
        """E-mails or externalIds shared by several user records: one person, several identities."""
        grouped = (
            select(
                user_aliases.c.kind,
                user_aliases.c.value_ci,
                func.count(func.distinct(user_aliases.c.user_id)).label("n"),
            )
            .where(self.scoped(user_aliases), user_aliases.c.kind.in_(["email", "externalId"]))
            .group_by(user_aliases.c.kind, user_aliases.c.value_ci)
            .having(func.count(func.distinct(user_aliases.c.user_id)) > 1)
            .limit(limit)
            .subquery()
        )
        stmt = (
            select(
                grouped.c.kind,
                grouped.c.value_ci,
                users.c.id,
                users.c.user_name,
                users.c.active,
                users.c.deleted_at,
            )
            .join(
                user_aliases,
                and_(
                    user_aliases.c.kind == grouped.c.kind,
                    user_aliases.c.value_ci == grouped.c.value_ci,
                    user_aliases.c.org_id == self.org_id,
                ),
            )
            .join(users, users.c.id == user_aliases.c.user_id)
            .order_by(grouped.c.value_ci, users.c.created_at)
        )
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for row in self.conn.execute(stmt):
            item = found.setdefault(
                (row.kind, row.value_ci),
                {
                    "kind": row.kind,
                    "value": row.value_ci,
                    "identities": [],
                    "why": "one person appears as several user records (deleted and re-created?)",
                    "remedies": [
                        {
                            "action": "restore",
                            "how": "restore the earlier record's memberships onto the "
                            "current one: POST /api/v1/restores with the email",
                        }
                    ],
                },
            )
            item["identities"].append(
                {
                    "user_id": row.id,
                    "userName": row.user_name,
                    "active": bool(row.active),
                    "deleted": row.deleted_at is not None,
                }
            )
        return list(found.values())
