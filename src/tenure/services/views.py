"""Plain-data views of memberships and rooms, shared by the admin API, console and CLI."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.clock import as_utc
from tenure.domain.directory import Room
from tenure.domain.membership import Membership
from tenure.domain.organisation import Organisation

_Row = TypeVar("_Row")


def one_page(
    rows: Sequence[_Row], limit: int, key: Callable[[_Row], Any]
) -> tuple[list[_Row], str | None]:
    """A page of a list read one row past ``limit``: its first ``limit`` rows, and the cursor
    of the next page (the ``key`` of the last row kept), or None when nothing is left."""
    page = list(rows[:limit])
    more = len(rows) > limit and page
    return page, (str(key(page[-1])) if more else None)


def iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat().replace("+00:00", "Z") if moment else None


@dataclass(frozen=True, slots=True)
class MembershipView:
    membership: Membership
    history: dict[str, int]
    user: dict[str, Any] = field(default_factory=dict)
    room_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        m = self.membership
        return {
            "id": m.id,
            "user_id": m.user_id,
            "room_id": m.room_id,
            "room_name": self.room_name,
            "user": self.user,
            "status": m.status.value,
            "role": m.role.value,
            "permissions": m.permissions,
            "source": m.source.value,
            "created_at": iso(m.created_at),
            "periods": [
                {
                    "started_at": iso(p.started_at),
                    "ended_at": iso(p.ended_at),
                    "start_reason": p.start_reason,
                    "end_reason": p.end_reason,
                    "actor": p.started_by,
                    "ended_by": p.ended_by,
                }
                for p in m.periods
            ],
            "history": self.history,
        }


def membership_views(uow: SqlUnitOfWork, memberships: list[Membership]) -> list[MembershipView]:
    """Views with periods, history counts, the person and the room, in four queries."""
    if not memberships:
        return []
    missing = [m.id for m in memberships if not m.periods]
    if missing:
        periods = uow.memberships.periods(missing)
        for m in memberships:
            if not m.periods:
                m.periods = periods.get(m.id, [])
    counts = uow.memberships.history_counts([m.id for m in memberships])
    people = {
        u.id: u for u in uow.users.get_many({m.user_id for m in memberships}, include_deleted=True)
    }
    rooms = {rid: uow.rooms.get(rid) for rid in {m.room_id for m in memberships}}
    views = []
    for m in memberships:
        person = people.get(m.user_id)
        room = rooms.get(m.room_id)
        user = (
            {
                "id": person.id,
                "userName": person.user_name,
                "displayName": person.display_name,
                "active": person.active,
                "deleted": person.is_deleted,
            }
            if person
            else {"id": m.user_id}
        )
        views.append(MembershipView(m, counts[m.id], user, room.name if room else None))
    return views


def room_dict(
    room: Room, org: Organisation | None = None, active_members: int | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": room.id,
        "name": room.name,
        "group_id": room.group_id,
        "readd_policy": room.readd_policy,
        "reinstate_window_days": room.reinstate_window_days,
        "default_role": room.default_role.value,
        "created_at": iso(room.created_at),
    }
    if org is not None:
        policy = room.policy(org)
        data["effective_policy"] = {
            "readd_policy": policy.readd_policy.value,
            "reinstate_window_days": policy.reinstate_window_days,
        }
    if active_members is not None:
        data["active_members"] = active_members
    return data


def org_dict(org: Organisation) -> dict[str, Any]:
    return {
        "id": org.id,
        "slug": org.slug,
        "name": org.name,
        "readd_policy": org.readd_policy.value,
        "reinstate_window_days": org.reinstate_window_days,
        "self_service_restore": org.self_service_restore,
    }
