"""Admin API: organisation settings, rooms, memberships, history, people and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from tenure.domain.errors import InvalidInput
from tenure.services import directory, history, rooms
from tenure.web.admin.deps import Org
from tenure.web.admin.route import AdminRoute
from tenure.web.admin.schemas import (
    AttendanceCreate,
    Deactivation,
    MeetingCreate,
    MembershipCreate,
    MembershipPatch,
    NoteCreate,
    OrganisationPatch,
    RoomCreate,
    RoomPatch,
    TaskCreate,
    changes,
)

router = APIRouter(route_class=AdminRoute)
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/organisation", tags=["organisation"])
def get_organisation(ctx: Org) -> dict[str, Any]:
    """The organisation and its room policies."""
    return rooms.get_organisation(ctx.uow(write=False))


@router.patch("/organisation", tags=["organisation"])
def patch_organisation(ctx: Org, body: OrganisationPatch) -> dict[str, Any]:
    """Change readd_policy, reinstate_window_days or self_service_restore."""
    settings = {k: v for k, v in changes(body).items() if v is not None}
    return ctx.run(lambda uow: rooms.update_organisation(uow, settings))


@router.get("/rooms", tags=["rooms"])
def list_rooms(ctx: Org, limit: Limit = 100, cursor: str | None = None) -> dict[str, Any]:
    items, nxt = rooms.list_rooms(ctx.uow(write=False), cursor, limit)
    return {"items": items, "next": nxt}


@router.post("/rooms", status_code=201, tags=["rooms"])
def create_room(ctx: Org, body: RoomCreate) -> dict[str, Any]:
    """A room managed by hand (or linked to a group with ``group_id``)."""
    data = changes(body)
    name = data.pop("name")
    return ctx.run(lambda uow: rooms.create_room(uow, name, data))


@router.get("/rooms/{room_id}", tags=["rooms"])
def get_room(ctx: Org, room_id: str) -> dict[str, Any]:
    return rooms.get_room(ctx.uow(write=False), room_id)


@router.patch("/rooms/{room_id}", tags=["rooms"])
def patch_room(ctx: Org, room_id: str, body: RoomPatch) -> dict[str, Any]:
    """Name, policy overrides (null = inherit the organisation's), default role, group link."""
    return ctx.run(lambda uow: rooms.update_room(uow, room_id, changes(body)))


@router.get("/rooms/{room_id}/memberships", tags=["memberships"])
def room_memberships(
    ctx: Org,
    room_id: str,
    user_id: str | None = None,
    status: str | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    views, nxt = rooms.list_memberships(
        ctx.uow(write=False),
        room_id=room_id,
        user_id=user_id,
        status=status,
        after=cursor,
        limit=limit,
    )
    return {"items": [v.as_dict() for v in views], "next": nxt}


@router.post("/rooms/{room_id}/memberships", status_code=201, tags=["memberships"])
def add_membership(ctx: Org, room_id: str, body: MembershipCreate) -> dict[str, Any]:
    """Add a person to a room no group manages."""
    return ctx.run(
        lambda uow: rooms.add_manual_membership(
            uow, room_id, body.user_id, body.role, body.permissions
        )
    ).as_dict()


@router.get("/users/{user_id}/memberships", tags=["memberships"])
def user_memberships(
    ctx: Org, user_id: str, status: str | None = None, limit: Limit = 100, cursor: str | None = None
) -> dict[str, Any]:
    views, nxt = rooms.list_memberships(
        ctx.uow(write=False), user_id=user_id, status=status, after=cursor, limit=limit
    )
    return {"items": [v.as_dict() for v in views], "next": nxt}


@router.get("/memberships/{membership_id}", tags=["memberships"])
def get_membership(ctx: Org, membership_id: str) -> dict[str, Any]:
    return rooms.get_membership(ctx.uow(write=False), membership_id).as_dict()


@router.patch("/memberships/{membership_id}", tags=["memberships"])
def patch_membership(ctx: Org, membership_id: str, body: MembershipPatch) -> dict[str, Any]:
    """Role and permissions; SCIM never resets them."""
    return ctx.run(lambda uow: rooms.update_membership(uow, membership_id, changes(body))).as_dict()


@router.post("/memberships/{membership_id}/deactivate", tags=["memberships"])
def deactivate_membership(
    ctx: Org, membership_id: str, body: Deactivation | None = None
) -> dict[str, Any]:
    """End a membership by hand (not while its SCIM group still lists the person)."""
    reason = body.reason if body else None
    return ctx.run(lambda uow: rooms.deactivate_membership(uow, membership_id, reason)).as_dict()


@router.post("/rooms/{room_id}/meetings", status_code=201, tags=["history"])
def create_meeting(ctx: Org, room_id: str, body: MeetingCreate) -> dict[str, Any]:
    return ctx.run(lambda uow: history.create_meeting(uow, room_id, body.title, body.starts_at))


@router.get("/rooms/{room_id}/meetings", tags=["history"])
def list_meetings(ctx: Org, room_id: str) -> dict[str, Any]:
    return {"items": history.list_meetings(ctx.uow(write=False), room_id), "next": None}


@router.get("/meetings/{meeting_id}", tags=["history"])
def get_meeting(ctx: Org, meeting_id: str) -> dict[str, Any]:
    return history.get_meeting(ctx.uow(write=False), meeting_id)


@router.post("/meetings/{meeting_id}/attendance", status_code=201, tags=["history"])
def record_attendance(ctx: Org, meeting_id: str, body: AttendanceCreate) -> dict[str, Any]:
    return ctx.run(lambda uow: history.record_attendance(uow, meeting_id, body.membership_id))


@router.get("/meetings/{meeting_id}/attendance", tags=["history"])
def list_attendance(ctx: Org, meeting_id: str) -> dict[str, Any]:
    return {"items": history.list_attendance(ctx.uow(write=False), meeting_id), "next": None}


@router.post("/meetings/{meeting_id}/notes", status_code=201, tags=["history"])
def add_note(ctx: Org, meeting_id: str, body: NoteCreate) -> dict[str, Any]:
    return ctx.run(lambda uow: history.add_note(uow, meeting_id, body.membership_id, body.text))


@router.get("/meetings/{meeting_id}/notes", tags=["history"])
def list_notes(ctx: Org, meeting_id: str) -> dict[str, Any]:
    return {"items": history.list_notes(ctx.uow(write=False), meeting_id), "next": None}


@router.post("/rooms/{room_id}/tasks", status_code=201, tags=["history"])
def create_task(ctx: Org, room_id: str, body: TaskCreate) -> dict[str, Any]:
    return ctx.run(
        lambda uow: history.create_task(uow, room_id, body.title, body.assignee_membership_id)
    )


@router.get("/rooms/{room_id}/tasks", tags=["history"])
def list_tasks(ctx: Org, room_id: str) -> dict[str, Any]:
    return {"items": history.list_tasks(ctx.uow(write=False), room_id), "next": None}


@router.get("/users", tags=["people"])
def find_users(ctx: Org, email: str | None = None, userName: str | None = None) -> dict[str, Any]:
    """Every identity, current or deleted, ever known by this e-mail or userName."""
    return {"items": directory.find_users(ctx.uow(write=False), email, userName), "next": None}


@router.get("/users/{user_id}/timeline", tags=["people"])
def person_timeline(ctx: Org, user_id: str) -> dict[str, Any]:
    """Every membership, in every room, of every identity this person had (deleted ones too)."""
    person, identities, views = directory.person(ctx.uow(write=False), user_id)
    return {"person": person, "identities": identities, "memberships": [v.as_dict() for v in views]}


@router.get("/users/{user_id}", tags=["people"])
def get_user(ctx: Org, user_id: str) -> dict[str, Any]:
    return directory.get_user(ctx.uow(write=False), user_id)


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO 8601 date-time") from None


@router.get("/audit", tags=["audit"])
def audit(
    ctx: Org,
    action: str | None = None,
    resource_id: str | None = None,
    actor: str | None = None,
    request_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The audit log, newest first; ``action`` accepts ``*`` wildcards (``scim:*``)."""
    items, nxt = directory.audit_page(
        ctx.uow(write=False),
        action=action,
        resource_id=resource_id,
        actor=actor,
        request_id=request_id,
        since=_moment(since, "since"),
        until=_moment(until, "until"),
        cursor=cursor,
        limit=limit,
    )
    return {"items": items, "next": nxt}
