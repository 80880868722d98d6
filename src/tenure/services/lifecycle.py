"""How IdP events move memberships: joins, removals, disables, deletes and re-adds.

These run inside a use case's open unit of work and never commit themselves, so the group
change, the memberships it moves and their audit entries commit together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.audit import AuditAction, AuditEntry
from tenure.domain.directory import Room
from tenure.domain.errors import NotFound
from tenure.domain.ids import new_id
from tenure.domain.membership import (
    EndReason,
    Membership,
    Source,
    Standing,
    StartReason,
    Status,
    new_membership,
)
from tenure.domain.organisation import Organisation


def organisation(uow: SqlUnitOfWork) -> Organisation:
    org = uow.organisation()
    if org is None:
        raise NotFound("organisation not found")
    return org


def _entry(
    uow: SqlUnitOfWork, action: AuditAction, m: Membership, at: datetime, **detail: object
) -> AuditEntry:
    return AuditEntry(
        action,
        uow.actor,
        "membership",
        m.id,
        uow.request_id,
        at,
        {"room_id": m.room_id, "user_id": m.user_id, **detail},
    )


def join_room(
    uow: SqlUnitOfWork,
    room: Room,
    user_ids: Sequence[str],
    at: datetime,
    org: Organisation | None = None,
    existing: Mapping[str, Standing] | None = None,
) -> None:
    """Give each person an active membership in ``room``, by the room's re-add policy.

    ``existing``: their standing in the room, already read and locked with the change that
    brought them in (a group's member add); read here otherwise.
    """
    if not user_ids:
        return
    policy = room.policy(org or organisation(uow))
    if existing is None:
        existing = uow.memberships.standing(room.id, user_ids)
    actor = str(uow.actor)
    created: list[Membership] = []
    reinstated: list[Membership] = []
    audit: list[AuditEntry] = []
    adopted: list[Membership] = []
    for user_id in user_ids:
        previous = existing.get(user_id) or Standing()
        current = previous.active
        if current is not None:
            # Already a member: a no-op, except that a membership added by hand is now the
            # group's to manage (the IdP can remove it from here on).
            if current.source is Source.MANUAL:
                current.source = Source.SCIM
                adopted.append(current)
                audit.append(_entry(uow, AuditAction.SCIM_MEMBERSHIP_ADOPT, current, at))
            continue
        back = policy.to_reinstate(previous, at)
        if back is not None:
            back.activate(StartReason.REINSTATED, actor, at)
            reinstated.append(back)
            audit.append(
                _entry(
                    uow,
                    AuditAction.SCIM_MEMBERSHIP_REINSTATE,
                    back,
                    at,
                    policy=policy.readd_policy.value,
                )
            )
        else:
            m = new_membership(
                id=new_id(),
                room_id=room.id,
                user_id=user_id,
                role=room.default_role,
                source=Source.SCIM,
                reason=StartReason.GROUP_ADD,
                actor=actor,
                at=at,
            )
            created.append(m)
            audit.append(
                _entry(
                    uow,
                    AuditAction.SCIM_MEMBERSHIP_ACTIVATE,
                    m,
                    at,
                    policy=policy.readd_policy.value,
                    previous=previous.total,
                )
            )
    uow.memberships.add_many(created, uow.request_id)
    uow.memberships.save_many(reinstated, uow.request_id)
    for m in adopted:
        uow.memberships.save_source(m)
    uow.audit.add_many(audit)


def leave_room(
    uow: SqlUnitOfWork,
    room: Room,
    user_ids: Sequence[str],
    reason: EndReason,
    at: datetime,
    active: Mapping[str, Membership] | None = None,
) -> None:
    """Deactivate the active memberships of these people in ``room``; nothing is deleted.

    ``active``: their active memberships in the room, already read and locked with the
    change that removed them (a group's member removal); read here otherwise.
    """
    if not user_ids:
        return
    if active is None:
        active = uow.memberships.active_in(room.id, user_ids)
    _end(uow, list(active.values()), reason, at)


def _end(uow: SqlUnitOfWork, ended: Iterable[Membership], reason: EndReason, at: datetime) -> None:
    actor = str(uow.actor)
    changed = []
    for m in ended:
        m.deactivate(reason, actor, at)
        changed.append(m)
    uow.memberships.save_many(changed, uow.request_id)
    uow.audit.add_many(
        [
            _entry(uow, AuditAction.SCIM_MEMBERSHIP_DEACTIVATE, m, at, reason=reason.value)
            for m in changed
        ]
    )


def user_left(uow: SqlUnitOfWork, user_id: str, reason: EndReason, at: datetime) -> None:
    """A disabled or deleted user: every active membership ends for that reason."""
    _end(uow, uow.memberships.of_users([user_id], status=Status.ACTIVE.value), reason, at)


def user_returned(uow: SqlUnitOfWork, user_id: str, at: datetime) -> None:
    """A re-enabled user gets back, as the same memberships, what disabling them ended.

    Only where they are still in the room's group (or the room has no group); rooms of other
    groups they are in follow the re-add policy.
    """
    org = organisation(uow)
    group_ids = {g for g, _ in uow.groups.groups_of([user_id])[user_id]}
    memberships = uow.memberships.of_users([user_id])
    active_rooms = {m.room_id for m in memberships if m.is_active}
    rooms = {r.id: r for r in (uow.rooms.get(rid) for rid in {m.room_id for m in memberships}) if r}
    back: dict[str, Membership] = {}
    for m in memberships:
        room = rooms.get(m.room_id)
        if (
            room is None
            or m.room_id in active_rooms
            or m.last_end_reason != EndReason.USER_DEACTIVATED
        ):
            continue
        if room.group_id is not None and room.group_id not in group_ids:
            continue
        latest = back.get(m.room_id)
        if latest is None or (
            m.last_ended_at and latest.last_ended_at and m.last_ended_at > latest.last_ended_at
        ):
            back[m.room_id] = m
    actor = str(uow.actor)
    for m in back.values():
        m.activate(StartReason.USER_REACTIVATED, actor, at)
    uow.memberships.save_many(list(back.values()), uow.request_id)
    uow.audit.add_many(
        [
            _entry(uow, AuditAction.SCIM_MEMBERSHIP_REINSTATE, m, at, reason="user_reactivated")
            for m in back.values()
        ]
    )
    covered = active_rooms | set(back)
    for room in uow.rooms.by_groups(sorted(group_ids)).values():
        if room.id not in covered:
            join_room(uow, room, [user_id], at, org)
