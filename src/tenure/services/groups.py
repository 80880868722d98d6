"""Provisioning groups: each group is a room, each member change a per-member delta."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.audit import AuditAction, AuditEntry
from tenure.domain.clock import utcnow
from tenure.domain.directory import Group, Room
from tenure.domain.errors import NotFound, Uniqueness
from tenure.domain.ids import new_id
from tenure.domain.membership import EndReason, Status
from tenure.domain.versions import check_if_match
from tenure.services import lifecycle


@dataclass(frozen=True, slots=True)
class GroupData:
    display_name: str
    external_id: str | None
    profile: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MemberDelta:
    """One member operation, in request order: add, remove, replace all, or clear."""

    kind: Literal["add", "remove", "replace", "clear"]
    ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class GroupView:
    group: Group
    members: list[str] | None = None  # member ids; None: not loaded (excludedAttributes)
    unknown_members: list[str] = field(default_factory=list)


def create_group(uow: SqlUnitOfWork, data: GroupData, member_ids: Sequence[str]) -> GroupView:
    """A group and its room; members that name no user are recorded, not fatal."""
    now = utcnow()
    with uow:
        if uow.groups.name_taken(data.display_name, None):
            raise Uniqueness(f"a group named {data.display_name!r} already exists")
        group = Group(
            id=new_id(),
            display_name=data.display_name,
            external_id=data.external_id,
            profile=data.profile,
            created_at=now,
            updated_at=now,
        )
        uow.groups.add(group)
        room = Room(id=new_id(), name=group.display_name, group_id=group.id, created_at=now)
        uow.rooms.add(room)
        uow.audit.add(
            AuditEntry(
                AuditAction.SCIM_GROUP_CREATE,
                uow.actor,
                "Group",
                group.id,
                uow.request_id,
                now,
                {"displayName": group.display_name, "room_id": room.id},
            )
        )
        unknown, added, _ = _apply(uow, group, room, [MemberDelta("add", list(member_ids))], now)
        if added:
            group = replace(group, member_count=uow.groups.touch(group, added))
        members = uow.groups.members([group.id])[group.id]
        uow.commit()
    return GroupView(group, members, unknown)


def get_group(uow: SqlUnitOfWork, group_id: str, *, with_members: bool = True) -> GroupView:
    with uow:
        group = uow.groups.get(group_id)
        if group is None:
            raise NotFound(f"Group {group_id} not found")
        members = uow.groups.members([group.id])[group.id] if with_members else None
        return GroupView(group, members)


def search_groups(
    uow: SqlUnitOfWork,
    where: Any,
    order_by: list[Any],
    offset: int,
    limit: int,
    *,
    with_members: bool,
) -> tuple[int, list[GroupView]]:
    """A page of groups; members are only read when the client wants them."""
    with uow:
        total, found = uow.groups.search(where, order_by, offset, limit)
        members = uow.groups.members([g.id for g in found]) if with_members and found else {}
        return total, [GroupView(g, members.get(g.id) if with_members else None) for g in found]


def change_group(
    uow: SqlUnitOfWork,
    group_id: str,
    build: Callable[[Group], tuple[GroupData, list[MemberDelta]]],
    *,
    action: AuditAction = AuditAction.SCIM_GROUP_UPDATE,
    if_match: str | None = None,
    with_members: bool = True,
    members_up_to: int | None = None,
) -> GroupView:
    """PUT or PATCH: new attributes, then member deltas in request order.

    Members are read back when ``with_members``, or when the group has at most
    ``members_up_to`` of them (the answer to a PATCH that asked for nothing in particular).
    """
    now = utcnow()
    with uow:
        found = uow.groups.for_change(group_id)
        if found is None:
            raise NotFound(f"Group {group_id} not found")
        group, room, org = found
        uow.remember_organisation(org)
        check_if_match(group.version, if_match, "group")
        data, deltas = build(group)
        updated = group
        if (data.display_name, data.external_id, data.profile) != (
            group.display_name,
            group.external_id,
            group.profile,
        ):
            if data.display_name.lower() != group.display_name.lower() and uow.groups.name_taken(
                data.display_name, group.id
            ):
                raise Uniqueness(f"a group named {data.display_name!r} already exists")
            updated = replace(
                group,
                display_name=data.display_name,
                external_id=data.external_id,
                profile=data.profile,
                updated_at=now,
                version=group.version + 1,
            )
            uow.groups.update(updated)
            if (
                room is not None
                and room.name != updated.display_name
                and data.display_name != group.display_name
            ):
                room.name = updated.display_name  # a rename in the IdP renames the room
                uow.rooms.update(room)
            uow.audit.add(
                AuditEntry(
                    action,
                    uow.actor,
                    "Group",
                    group.id,
                    uow.request_id,
                    now,
                    {
                        "displayName": updated.display_name,
                        "previous_displayName": group.display_name,
                    },
                )
            )
        unknown: list[str] = []
        if deltas:
            if room is None:  # the room was unlinked by an admin: give the group a new one
                room = Room(
                    id=new_id(), name=updated.display_name, group_id=group.id, created_at=now
                )
                uow.rooms.add(room)
            unknown, added, removed = _apply(uow, updated, room, deltas, now)
            # Members the group already had, or did not have, change nothing: the version
            # and lastModified stay (IdPs resend removes of people already gone).
            if added or removed:
                if updated.version == group.version:
                    updated = replace(updated, updated_at=now, version=group.version + 1)
                # ``updated`` is this request's copy by now (replaced here or above).
                updated.member_count = uow.groups.touch(updated, added - removed)
        load = with_members or (members_up_to is not None and updated.member_count <= members_up_to)
        members = uow.groups.members([group.id])[group.id] if load else None
        uow.commit()
    return GroupView(updated, members, unknown)


def delete_group(uow: SqlUnitOfWork, group_id: str, if_match: str | None = None) -> None:
    """The group goes; its room stays with all content, unlinked, memberships inactive."""
    now = utcnow()
    with uow:
        group = uow.groups.get(group_id, lock=True)
        if group is None:
            raise NotFound(f"Group {group_id} not found")
        check_if_match(group.version, if_match, "group")
        room = uow.rooms.by_group(group.id)
        if room is not None:
            active = [
                m.user_id for m in uow.memberships.of_room(room.id, status=Status.ACTIVE.value)
            ]
            lifecycle.leave_room(uow, room, active, EndReason.GROUP_DELETED, now)
            room.group_id = None
            uow.rooms.update(room)
        uow.groups.mark_deleted(
            replace(group, deleted_at=now, updated_at=now, version=group.version + 1)
        )
        uow.audit.add(
            AuditEntry(
                AuditAction.SCIM_GROUP_DELETE,
                uow.actor,
                "Group",
                group.id,
                uow.request_id,
                now,
                {"displayName": group.display_name, "room_id": room.id if room else None},
            )
        )
        uow.commit()


def _apply(
    uow: SqlUnitOfWork, group: Group, room: Room, deltas: Sequence[MemberDelta], at: datetime
) -> tuple[list[str], int, int]:
    """Apply member deltas in order, touching only the rows named.

    Returns the member values that name no user of the organisation, and how many members
    were added and removed.
    """
    unknown: list[str] = []
    added_total: list[str] = []
    removed_total: list[str] = []
    for delta in deltas:
        wanted = list(dict.fromkeys(delta.ids)) if delta.kind != "clear" else []
        if delta.kind in ("replace", "clear"):
            keep = set(wanted)
            to_remove = [u for u in uow.groups.member_ids(group.id) if u not in keep]
        else:
            to_remove = wanted if delta.kind == "remove" else []
        removed, active = (
            uow.groups.remove_members(group.id, to_remove, room.id) if to_remove else ([], None)
        )
        if removed:
            lifecycle.leave_room(uow, room, removed, EndReason.GROUP_REMOVAL, at, active)
            removed_total.extend(removed)
        if delta.kind == "remove" or not wanted:
            continue
        live, added, known = uow.groups.add_live_members(group.id, room.id, wanted, at)
        unknown.extend(v for v in wanted if v not in live)
        if added:
            # Members are recorded whatever their state; only active users get a membership.
            joining = [u for u in added if live[u]]
            lifecycle.join_room(uow, room, joining, at, existing=known)
            added_total.extend(added)
    if unknown:
        uow.groups.record_unknown(group.id, unknown, uow.request_id, at)
        uow.audit.add(
            AuditEntry(
                AuditAction.SCIM_GROUP_UNKNOWN_MEMBERS,
                uow.actor,
                "Group",
                group.id,
                uow.request_id,
                at,
                {"values": unknown[:100], "count": len(unknown)},
            )
        )
    if added_total or removed_total:
        uow.audit.add(
            AuditEntry(
                AuditAction.SCIM_GROUP_MEMBERS,
                uow.actor,
                "Group",
                group.id,
                uow.request_id,
                at,
                {
                    "added": added_total[:1000],
                    "removed": removed_total[:1000],
                    "added_count": len(added_total),
                    "removed_count": len(removed_total),
                },
            )
        )
    return unknown, len(added_total), len(removed_total)
