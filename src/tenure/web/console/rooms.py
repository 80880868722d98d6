"""A room and its memberships; one membership with its access and periods."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from tenure.domain.errors import InvalidInput
from tenure.domain.membership import PERMISSIONS, Role
from tenure.services import directory, rooms
from tenure.web.console.forms import clean, room_changes
from tenure.web.console.render import redirect, render
from tenure.web.console.route import ConsoleRoute
from tenure.web.console.session import Acting

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
PAGE = 100
STATUSES = ("active", "inactive")


@router.get("/rooms/{room_id}")
def room_page(
    request: Request,
    ctx: Acting,
    room_id: str,
    status: str | None = None,
    cursor: str | None = None,
) -> Response:
    room = rooms.get_room(ctx.uow(write=False), room_id)
    org = rooms.get_organisation(ctx.uow(write=False))
    wanted = status if status in STATUSES else None
    views, nxt = rooms.list_memberships(
        ctx.uow(write=False), room_id=room_id, status=wanted, after=cursor, limit=PAGE
    )
    members = [v.as_dict() for v in views]
    return render(
        request,
        "room.html",
        title=room["name"],
        room=room,
        org=org,
        members=members,
        status=wanted,
        cursor=cursor,
        next_cursor=nxt,
        roles=[r.value for r in Role],
    )


@router.post("/rooms/{room_id}")
def save_room(
    ctx: Acting,
    room_id: str,
    name: Annotated[str, Form()] = "",
    readd_policy: Annotated[str, Form()] = "",
    reinstate_window_days: Annotated[str, Form()] = "",
    default_role: Annotated[str, Form()] = "",
) -> Response:
    rooms.update_room(
        ctx.uow(), room_id, room_changes(name, readd_policy, reinstate_window_days, default_role)
    )
    return redirect(f"/rooms/{room_id}", "Room settings saved.")


@router.post("/rooms/{room_id}/members")
def add_member(
    ctx: Acting, room_id: str, person: Annotated[str, Form()], role: Annotated[str, Form()] = ""
) -> Response:
    """Add a person (by e-mail, userName or user id) to a room no group manages."""
    ref = clean(person)
    if not ref:
        raise InvalidInput("say who to add: an e-mail, a userName or a user id")
    found = [u for u in directory.find_users(ctx.uow(write=False), ref, ref) if not u["deleted"]]
    if len(found) > 1:
        raise InvalidInput(f"{len(found)} current accounts are known by {ref!r}: use the user id")
    user_id = found[0]["id"] if found else ref
    rooms.add_manual_membership(ctx.uow(), room_id, user_id, role or None)
    return redirect(f"/rooms/{room_id}", "Person added to the room.")


@router.get("/memberships/{membership_id}")
def membership_page(request: Request, ctx: Acting, membership_id: str) -> Response:
    m = rooms.get_membership(ctx.uow(write=False), membership_id).as_dict()
    return render(
        request,
        "membership.html",
        title=f"Membership in {m['room_name']}",
        m=m,
        roles=[r.value for r in Role],
        permissions=sorted(PERMISSIONS),
    )


@router.post("/memberships/{membership_id}")
def save_membership(
    ctx: Acting,
    membership_id: str,
    role: Annotated[str, Form()],
    permissions: Annotated[list[str] | None, Form()] = None,
) -> Response:
    rooms.update_membership(
        ctx.uow(), membership_id, {"role": role, "permissions": permissions or []}
    )
    return redirect(f"/memberships/{membership_id}", "Role and permissions saved.")


@router.post("/memberships/{membership_id}/deactivate")
def deactivate(
    ctx: Acting,
    membership_id: str,
    reason: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    m = rooms.deactivate_membership(ctx.uow(), membership_id, clean(reason))
    target = back if back in ("/drift",) else f"/memberships/{m.membership.id}"
    return redirect(target, "Membership deactivated; it can be restored later.")
