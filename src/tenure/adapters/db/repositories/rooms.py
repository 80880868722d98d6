"""Rooms of one organisation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from tenure.adapters.db.repositories.base import TenantRepository
from tenure.adapters.db.rows import to_room
from tenure.adapters.db.tables import rooms
from tenure.domain.directory import Room


class RoomRepository(TenantRepository):
    def get(self, room_id: str) -> Room | None:
        row = self.conn.execute(
            select(rooms).where(self.scoped(rooms), rooms.c.id == room_id)
        ).first()
        return to_room(row) if row else None

    def by_group(self, group_id: str) -> Room | None:
        row = self.conn.execute(
            select(rooms).where(self.scoped(rooms), rooms.c.group_id == group_id)
        ).first()
        return to_room(row) if row else None

    def by_groups(self, group_ids: list[str]) -> dict[str, Room]:
        if not group_ids:
            return {}
        stmt = select(rooms).where(self.scoped(rooms), rooms.c.group_id.in_(group_ids))
        return {r.group_id: to_room(r) for r in self.conn.execute(stmt)}

    def by_name(self, name: str) -> list[Room]:
        stmt = (
            select(rooms)
            .where(self.scoped(rooms), rooms.c.name == name)
            .order_by(rooms.c.created_at)
        )
        return [to_room(r) for r in self.conn.execute(stmt)]

    def add(self, room: Room) -> None:
        self.conn.execute(
            insert(rooms).values(
                id=room.id, org_id=self.org_id, created_at=room.created_at, **self._values(room)
            )
        )

    def update(self, room: Room) -> None:
        self.conn.execute(
            update(rooms)
            .where(self.scoped(rooms), rooms.c.id == room.id)
            .values(**self._values(room))
        )

    def page(self, after: str | None, limit: int) -> list[Room]:
        stmt = select(rooms).where(self.scoped(rooms))
        if after:
            stmt = stmt.where(rooms.c.id > after)
        stmt = stmt.order_by(rooms.c.id).limit(limit)
        return [to_room(r) for r in self.conn.execute(stmt)]

    def names(self) -> dict[str, str]:
        """Every room's name by its id, in id order."""
        stmt = select(rooms.c.id, rooms.c.name).where(self.scoped(rooms)).order_by(rooms.c.id)
        return {row.id: row.name for row in self.conn.execute(stmt)}

    def _values(self, room: Room) -> dict[str, Any]:
        return {
            "name": room.name,
            "group_id": room.group_id,
            "readd_policy": room.readd_policy,
            "reinstate_window_days": room.reinstate_window_days,
            "default_role": room.default_role.value,
        }
