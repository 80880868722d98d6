"""Restore requests: admins see their outcome; support approves (restores) or rejects them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from tenure.domain.errors import Forbidden
from tenure.services import requests, rooms
from tenure.web.console.forms import clean
from tenure.web.console.render import redirect, render
from tenure.web.console.route import ConsoleRoute
from tenure.web.console.session import Acting, Console

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
PAGE = 50
STATUSES = ("pending", "approved", "rejected")


def _support_only(ctx: Console) -> None:
    if not ctx.is_support:
        raise Forbidden("only platform support decides restore requests")


@router.get("/requests")
def request_list(
    request: Request, ctx: Acting, status: str | None = None, cursor: str | None = None
) -> Response:
    wanted = status if status in STATUSES else None
    items, nxt = requests.list_requests(ctx.uow(write=False), wanted, cursor, PAGE)
    return render(
        request,
        "requests.html",
        title="Restore requests",
        items=items,
        status=wanted,
        statuses=STATUSES,
        next_cursor=nxt,
        cursor=cursor,
        rooms=rooms.room_names(ctx.uow(write=False)),
    )


@router.get("/requests/{request_id}")
def request_page(request: Request, ctx: Acting, request_id: str) -> Response:
    item = requests.get_request(ctx.uow(write=False), request_id)
    return render(
        request,
        "request.html",
        title="Restore request",
        item=item,
        rooms=rooms.room_names(ctx.uow(write=False)),
        may_decide=ctx.is_support,
    )


@router.post("/requests/{request_id}/approve")
def approve(
    ctx: Acting,
    request_id: str,
    membership: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    _support_only(ctx)
    done = requests.approve(ctx.uow(), request_id, membership or None, clean(reason))
    return redirect(
        f"/restores/{done['restore']['id']}",
        "Request approved and the membership restored. You can still undo it here.",
    )


@router.post("/requests/{request_id}/reject")
def reject(ctx: Acting, request_id: str, reason: Annotated[str, Form()] = "") -> Response:
    _support_only(ctx)
    requests.reject(ctx.uow(), request_id, clean(reason))
    return redirect(f"/requests/{request_id}", "Request rejected; the admin sees your reason.")
