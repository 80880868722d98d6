"""Organisation settings, rooms and memberships as admins and support manage them."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.audit import AuditAction, AuditEntry
from tenure.domain.clock import utcnow
from tenure.domain.directory import Room
from tenure.domain.errors import Conflict, InvalidInput, NotFound
from tenure.domain.ids import cursor_id, new_id
from tenure.domain.membership import (
    EndReason,
    Membership,
    Source,
    StartReason,
    Status,
    check_role,
    new_membership,
)
from tenure.services import lifecycle
from tenure.services.views import MembershipView, membership_views, one_page, org_dict, room_dict

ROOM_FIELDS = {"name", "readd_policy", "reinstate_window_days", "default_role", "group_id"}
ORG_FIELDS = {"readd_policy", "reinstate_window_days", "self_service_restore"}


def get_organisation(uow: SqlUnitOfWork) -> dict[str, Any]:
    with uow:
        return org_dict(lifecycle.organisation(uow))


def update_organisation(uow: SqlUnitOfWork, changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - ORG_FIELDS
    if unknown:
        raise InvalidInput(f"unknown settings: {', '.join(sorted(unknown))}")
    now = utcnow()
    with uow:
        org = lifecycle.organisation(uow)
        before = org_dict(org)
        org.update_settings(**changes)
        uow.platform.save_org(org)
        uow.audit.add(
            AuditEntry(
                AuditAction.ADMIN_ORGANISATION_UPDATE,
                uow.actor,
                "Organisation",
                org.id,
                uow.request_id,
                now,
                {"before": before, "after": org_dict(org)},
            )
        )
        uow.commit()
        return org_dict(org)


def _room(uow: SqlUnitOfWork, room_id: str) -> Room:
    room = uow.rooms.get(room_id)
    if room is None:
        raise NotFound(f"room {room_id} not found")
    return room


def resolve_room(uow: SqlUnitOfWork, ref: str) -> Room:
    """A room by id, or by its exact name when that is unambiguous."""
    room = uow.rooms.get(ref)
    if room is not None:
        return room
    named = uow.rooms.by_name(ref)
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise Conflict(f"{len(named)} rooms are named {ref!r}: use the room id")
    raise NotFound(f"no room with id or name {ref!r}")


def list_rooms(
    uow: SqlUnitOfWork, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of rooms, and the cursor of the next page (None on the last)."""
    after = cursor_id(after)
    with uow:
        org = lifecycle.organisation(uow)
        found, next_cursor = one_page(uow.rooms.page(after, limit + 1), limit, attrgetter("id"))
        counts = uow.memberships.active_counts_by_room([r.id for r in found])
        return [room_dict(r, org, counts.get(r.id, 0)) for r in found], next_cursor


def _active_count(uow: SqlUnitOfWork, room: Room) -> int:
    return uow.memberships.active_counts_by_room([room.id]).get(room.id, 0)


def room_names(uow: SqlUnitOfWork) -> dict[str, str]:
    """Every room's name by its id: what a list of memberships, requests or drift shows."""
    with uow:
        return uow.rooms.names()


def get_room(uow: SqlUnitOfWork, room_id: str) -> dict[str, Any]:
    with uow:
        org = lifecycle.organisation(uow)
        room = _room(uow, room_id)
        return room_dict(room, org, _active_count(uow, room))


def create_room(uow: SqlUnitOfWork, name: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """A room managed by hand (no group); its memberships are added by admins."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name must be a non-empty string")
    now = utcnow()
    with uow:
        org = lifecycle.organisation(uow)
        room = Room(id=new_id(), name=name.strip(), group_id=None, created_at=now)
        room.configure(
            {k: v for k, v in settings.items() if k in ROOM_FIELDS - {"group_id", "name"}}
        )
        if settings.get("group_id"):
            _link(uow, room, settings["group_id"])
        uow.rooms.add(room)
        uow.audit.add(
            AuditEntry(
                AuditAction.ADMIN_ROOM_CREATE,
                uow.actor,
                "Room",
                room.id,
                uow.request_id,
                now,
                room_dict(room),
            )
        )
        uow.commit()
        return room_dict(room, org, 0)


def _link(uow: SqlUnitOfWork, room: Room, group_id: str) -> None:
    group = uow.groups.get(group_id)
    if group is None:
        raise NotFound(f"group {group_id} not found")
    linked = uow.rooms.by_group(group_id)
    if linked is not None and linked.id != room.id:
        raise Conflict(f"group {group.display_name!r} is already linked to room {linked.name!r}")
    room.group_id = group_id


def update_room(uow: SqlUnitOfWork, room_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Name, policy overrides (``null`` = inherit), default role, and the group link."""
    unknown = set(changes) - ROOM_FIELDS
    if unknown:
        raise InvalidInput(f"unknown room fields: {', '.join(sorted(unknown))}")
    now = utcnow()
    with uow:
        org = lifecycle.organisation(uow)
        room = _room(uow, room_id)
        before = room_dict(room)
        room.configure({k: v for k, v in changes.items() if k != "group_id"})
        if "group_id" in changes:
            if changes["group_id"] is None:
                room.group_id = None
            else:
                _link(uow, room, str(changes["group_id"]))
        uow.rooms.update(room)
        if "group_id" in changes and room.group_id and before["group_id"] != room.group_id:
            # Linking makes the group the source of truth: its members get memberships now.
            members = sorted(uow.groups.member_ids(room.group_id))
            active = [u.id for u in uow.users.get_many(members) if u.active]
            lifecycle.join_room(uow, room, active, now, org)
        uow.audit.add(
            AuditEntry(
                AuditAction.ADMIN_ROOM_UPDATE,
                uow.actor,
                "Room",
                room.id,
                uow.request_id,
                now,
                {"before": before, "after": room_dict(room)},
            )
        )
        view = room_dict(room, org, _active_count(uow, room))
        uow.commit()
        return view


def list_memberships(
    uow: SqlUnitOfWork,
    *,
    room_id: str | None = None,
    user_id: str | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> tuple[list[MembershipView], str | None]:
    """A page of memberships, and the cursor of the next page (None on the last)."""
    if status is not None and status not in (Status.ACTIVE.value, Status.INACTIVE.value):
        raise InvalidInput("status must be 'active' or 'inactive'")
    after = cursor_id(after)
    with uow:
        if room_id is not None:
            _room(uow, room_id)
        if user_id is not None and uow.users.get(user_id, include_deleted=True) is None:
            raise NotFound(f"user {user_id} not found")
        read = uow.memberships.page(
            room_id=room_id, user_id=user_id, status=status, after=after, limit=limit + 1
        )
        found, next_cursor = one_page(read, limit, attrgetter("id"))
        return membership_views(uow, found), next_cursor


def get_membership(uow: SqlUnitOfWork, membership_id: str) -> MembershipView:
    with uow:
        return _view(uow, _membership(uow, membership_id))


def _membership(uow: SqlUnitOfWork, membership_id: str, lock: bool = False) -> Membership:
    m = uow.memberships.get(membership_id, lock=lock)
    if m is None:
        raise NotFound(f"membership {membership_id} not found")
    return m


def _view(uow: SqlUnitOfWork, m: Membership) -> MembershipView:
    return membership_views(uow, [m])[0]


def update_membership(
    uow: SqlUnitOfWork, membership_id: str, changes: dict[str, Any]
) -> MembershipView:
    """Role and permissions; they stay with the membership through every SCIM change."""
    unknown = set(changes) - {"role", "permissions"}
    if unknown:
        raise InvalidInput(
            f"only role and permissions can be changed, not {', '.join(sorted(unknown))}"
        )
    permissions = changes.get("permissions")
    if permissions is not None and not isinstance(permissions, list):
        raise InvalidInput("permissions must be a list")
    now = utcnow()
    with uow:
        m = _membership(uow, membership_id, lock=True)
        before = {"role": m.role.value, "permissions": list(m.permissions)}
        m.change_access(changes.get("role"), permissions)
        uow.memberships.save_access(m)
        uow.audit.add(
            AuditEntry(
                AuditAction.ADMIN_MEMBERSHIP_UPDATE,
                uow.actor,
                "Membership",
                m.id,
                uow.request_id,
                now,
                {"before": before, "after": {"role": m.role.value, "permissions": m.permissions}},
            )
        )
        view = _view(uow, m)
        uow.commit()
        return view


def add_manual_membership(
    uow: SqlUnitOfWork, room_id: str, user_id: Any, role: Any = None, permissions: Any = None
) -> MembershipView:
    """An admin adds a person to a room that no group manages."""
    if not isinstance(user_id, str):
        raise InvalidInput("user_id is required")
    now = utcnow()
    with uow:
        room = _room(uow, room_id)
        if room.group_id is not None:
            raise Conflict(
                "this room's members come from its SCIM group: add the person to the group "
                "in the identity provider"
            )
        user = uow.users.get(user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        if uow.memberships.active_in(room.id, [user.id]):
            raise Conflict("this person already has an active membership in the room")
        m = new_membership(
            id=new_id(),
            room_id=room.id,
            user_id=user.id,
            role=check_role(role) if role is not None else room.default_role,
            source=Source.MANUAL,
            reason=StartReason.MANUAL,
            actor=str(uow.actor),
            at=now,
            permissions=permissions,
        )
        uow.memberships.add_many([m], uow.request_id)
        uow.audit.add(
            AuditEntry(
                AuditAction.ADMIN_MEMBERSHIP_CREATE,
                uow.actor,
                "Membership",
                m.id,
                uow.request_id,
                now,
                {"room_id": room.id, "user_id": user.id},
            )
        )
        view = _view(uow, m)
        uow.commit()
        return view


def deactivate_membership(
    uow: SqlUnitOfWork, membership_id: str, reason: Any = None
) -> MembershipView:
    """End a membership by hand (manual rooms, or drift clean-up); nothing is deleted."""
    now = utcnow()
    with uow:
        m = _membership(uow, membership_id, lock=True)
        room = _room(uow, m.room_id)
        if room.group_id is not None and m.user_id in uow.groups.present(
            room.group_id, [m.user_id]
        ):
            raise Conflict(
                "the person is in this room's SCIM group: remove them in the identity provider, "
                "or the next sync would add them again"
            )
        m.deactivate(EndReason.MANUAL, str(uow.actor), now)
        uow.memberships.save_many([m], uow.request_id)
        uow.audit.add(
            AuditEntry(
                AuditAction.ADMIN_MEMBERSHIP_DEACTIVATE,
                uow.actor,
                "Membership",
                m.id,
                uow.request_id,
                now,
                {"reason": reason if isinstance(reason, str) else ""},
            )
        )
        view = _view(uow, m)
        uow.commit()
        return view


def find_room(uow: SqlUnitOfWork, ref: str) -> dict[str, Any]:
    """A room by id or exact name (the CLI and support requests name rooms both ways)."""
    with uow:
        return room_dict(resolve_room(uow, ref))
