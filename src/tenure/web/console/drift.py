"""The drift report, with each remedy that is an action offered as a button."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from tenure.services import drift, rooms
from tenure.services import restore as restores
from tenure.services.candidates import parse_moment
from tenure.web.console.forms import clean
from tenure.web.console.overview import DRIFT_SECTIONS
from tenure.web.console.render import plural, redirect, render
from tenure.web.console.route import ConsoleRoute
from tenure.web.console.session import Acting

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/drift")
def drift_page(request: Request, ctx: Acting) -> Response:
    report = drift.report(ctx.uow(write=False))
    names = rooms.room_names(ctx.uow(write=False))
    total = sum(len(v) for v in report.values())
    return render(
        request,
        "drift.html",
        title="Drift",
        report=report,
        rooms=names,
        total=total,
        empty=[(key, label) for key, label in DRIFT_SECTIONS.items() if not report.get(key)],
        may_restore=ctx.may_restore,
    )


def _batch(
    ctx: Acting, room_id: str, since: str, until: str, reason: str, dry_run: bool
) -> dict[str, Any]:
    if not dry_run:
        restores.authorize(ctx.uow(write=False), ctx.role)
    return drift.restore_batch(
        ctx.uow,
        room_id,
        parse_moment(since, "since"),
        parse_moment(until, "until"),
        None,
        clean(reason) or "mass removal",
        dry_run,
    )


@router.post("/drift/restore-batch")
def restore_batch(
    request: Request,
    ctx: Acting,
    room_id: Annotated[str, Form()],
    since: Annotated[str, Form()],
    until: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
    dry_run: Annotated[str, Form()] = "",
) -> Response:
    """A dry run renders what would happen (it changes nothing); the real thing redirects."""
    result = _batch(ctx, room_id, since, until, reason, dry_run == "1")
    if result["dry_run"]:
        names = rooms.room_names(ctx.uow(write=False))
        return render(
            request,
            "batch.html",
            title="Batch restore preview",
            result=result,
            room=names.get(room_id, room_id),
            room_id=room_id,
            since=since,
            until=until,
            reason=reason,
            may_restore=ctx.may_restore,
        )
    message = f"Batch restore: {plural(len(result['restored']), 'membership')} restored"
    if result["skipped"]:
        reasons = "; ".join(sorted({s["why"] for s in result["skipped"]}))[:300]
        message += f", {len(result['skipped'])} skipped ({reasons})"
    return redirect("/drift", message + ".")
