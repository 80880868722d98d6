"""The restore flow: candidates, preview (A beside B), restore, result, undo — or a request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from tenure.domain.errors import InvalidInput, TenureError
from tenure.services import candidates, directory, requests, rooms
from tenure.services import restore as restores
from tenure.services.restore import RestoreCommand
from tenure.web.console.forms import checkbox, clean
from tenure.web.console.render import redirect, render
from tenure.web.console.route import ConsoleRoute
from tenure.web.console.session import Acting

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
RESTORES_PAGE = 50


def _lookup(
    ctx: Acting, room_id: str, user_id: str | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    room = rooms.get_room(ctx.uow(write=False), room_id)
    person = directory.get_user(ctx.uow(write=False), user_id) if user_id else None
    return room, person


def restore_page(
    request: Request,
    ctx: Acting,
    cmd: RestoreCommand,
    *,
    error: TenureError | None = None,
    reason: str = "",
) -> Response:
    """The preview of ``cmd``; a refusal (the plan's or the restore's) is shown in its place."""
    room, person = _lookup(ctx, cmd.room_id, cmd.user_id)
    plan = None
    status = 200
    if error is None:
        try:
            plan = restores.preview(ctx.uow(write=False), cmd)["plan"]
        except TenureError as refused:
            error = refused
    if error is not None:
        status = error.status
    ended = plan["reactivate"]["ended_at"] if plan else None
    email = cmd.email or (person["emails"][0] if person and person["emails"] else "")
    return render(
        request,
        "restore.html",
        http_status=status,
        title="Restore a membership",
        room=room,
        person=person,
        cmd=cmd,
        plan=plan,
        error=error.detail if error else None,
        may_restore=ctx.may_restore,
        reason=reason,
        email=email,
        ended=ended,
    )


@router.get("/restore")
def restore_form(
    request: Request,
    ctx: Acting,
    room: str | None = None,
    user: str | None = None,
    membership: str | None = None,
    email: str | None = None,
) -> Response:
    if room and (user or (email and membership)):
        cmd = RestoreCommand(room_id=room, user_id=user, email=email, membership_id=membership)
        return restore_page(request, ctx, cmd)
    found = (
        candidates.candidates(ctx.uow(write=False), email, room or None, None, None)
        if email
        else None
    )
    return render(
        request,
        "restore_find.html",
        title="Find what to restore",
        email=email or "",
        room=room or "",
        rooms=rooms.room_names(ctx.uow(write=False)),
        candidates=found,
    )


@router.post("/restore")
def restore(
    request: Request,
    ctx: Acting,
    room: Annotated[str, Form()],
    user: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    membership: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    merge: Annotated[list[str] | None, Form()] = None,
) -> Response:
    cmd = RestoreCommand(
        room_id=room,
        user_id=user or None,
        email=email or None,
        membership_id=membership or None,
        merge=checkbox(merge or []),
        reason=clean(reason),
    )
    if cmd.user_id is None and cmd.email is None:
        raise InvalidInput("the restore form names no person")
    try:
        restores.authorize(ctx.uow(write=False), ctx.role)
        done = restores.restore(ctx.uow(), cmd)
    except TenureError as refused:
        return restore_page(request, ctx, cmd, error=refused, reason=cmd.reason)
    return redirect(f"/restores/{done['id']}", "Restored. Check the result below; you can undo it.")


@router.get("/restores")
def restore_list(request: Request, ctx: Acting, cursor: str | None = None) -> Response:
    items, nxt = restores.list_restores(ctx.uow(write=False), cursor, RESTORES_PAGE)
    names = rooms.room_names(ctx.uow(write=False))
    return render(
        request,
        "restores.html",
        title="Restores",
        items=items,
        next_cursor=nxt,
        rooms=names,
        cursor=cursor,
    )


@router.get("/restores/{restore_id}")
def restore_result(request: Request, ctx: Acting, restore_id: str) -> Response:
    record = restores.get_restore(ctx.uow(write=False), restore_id)
    room, person = _lookup(ctx, record["room_id"], record["user_id"])
    return render(
        request,
        "restore_result.html",
        title="Restore",
        record=record,
        room=room,
        person=person,
        may_restore=ctx.may_restore,
    )


@router.post("/restores/{restore_id}/undo")
def undo(ctx: Acting, restore_id: str, reason: Annotated[str, Form()] = "") -> Response:
    restores.authorize(ctx.uow(write=False), ctx.role)
    restores.undo(ctx.uow(), restore_id, clean(reason))
    return redirect(
        f"/restores/{restore_id}", "Restore undone: both memberships are as they were before."
    )


@router.post("/restore-requests")
def file_request(
    ctx: Acting,
    email: Annotated[str, Form()],
    room: Annotated[str, Form()],
    removed_at: Annotated[str, Form()] = "",
    readded_at: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    filed = requests.file_request(
        ctx.uow(),
        clean(email),
        room,
        clean(removed_at) or None,
        clean(readded_at) or None,
        clean(note),
    )
    return redirect(
        f"/requests/{filed['id']}", "Restore request filed. Platform support will review it."
    )
