"""Admin API: restores, candidates, restore requests and the drift report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tenure.services import candidates, drift, requests
from tenure.services import restore as restores
from tenure.services.candidates import parse_moment
from tenure.services.restore import RestoreCommand
from tenure.web.admin.deps import Org
from tenure.web.admin.route import AdminRoute
from tenure.web.admin.schemas import BatchRestore, Decision, RestoreCreate, RestoreRequestCreate

router = APIRouter(route_class=AdminRoute)
Limit = Annotated[int, Query(ge=1, le=500)]


@router.post("/restores", tags=["restore"])
def create_restore(ctx: Org, body: RestoreCreate) -> Any:
    """Restore a membership (B) in place of the current one (A); ``dry_run`` previews the plan."""
    cmd = RestoreCommand(
        room_id=body.room_id,
        user_id=body.user_id,
        email=body.email,
        membership_id=body.membership_id,
        merge=body.merge,
        reason=body.reason,
    )
    if body.dry_run:
        return restores.preview(ctx.uow(write=False), cmd)
    return ctx.run(lambda uow: restores.restore(uow, cmd))


@router.get("/restores", tags=["restore"])
def list_restores(ctx: Org, limit: Limit = 50, cursor: str | None = None) -> dict[str, Any]:
    items, nxt = restores.list_restores(ctx.uow(write=False), cursor, limit)
    return {"items": items, "next": nxt}


@router.get("/restores/{restore_id}", tags=["restore"])
def get_restore(ctx: Org, restore_id: str) -> dict[str, Any]:
    return restores.get_restore(ctx.uow(write=False), restore_id)


@router.post("/restores/{restore_id}/undo", tags=["restore"])
def undo_restore(ctx: Org, restore_id: str, body: Decision | None = None) -> dict[str, Any]:
    """Reverse a restore exactly, if nothing changed since (409 otherwise, saying what)."""
    return ctx.run(lambda uow: restores.undo(uow, restore_id, body.reason if body else ""))


@router.post("/restores/batch", tags=["restore"])
def restore_batch(ctx: Org, body: BatchRestore) -> dict[str, Any]:
    """Restore every membership a mass removal ended (from the drift report), one by one."""
    if not body.dry_run:  # refuse at once, not once per membership of the batch
        restores.authorize(ctx.uow(write=False), ctx.principal.role)
    return drift.restore_batch(
        ctx.uow,
        body.room_id,
        parse_moment(body.since, "since"),
        parse_moment(body.until, "until"),
        body.request_id,
        body.reason,
        body.dry_run,
    )


@router.get("/restore-candidates", tags=["restore"])
def restore_candidates(
    ctx: Org,
    email: str,
    room: str | None = None,
    removed_at: str | None = None,
    readded_at: str | None = None,
) -> dict[str, Any]:
    """Memberships a support request may mean, best first, each with why it matches."""
    return {
        "items": candidates.candidates(ctx.uow(write=False), email, room, removed_at, readded_at),
        "next": None,
    }


@router.post("/restore-requests", status_code=201, tags=["restore requests"])
def file_request(ctx: Org, body: RestoreRequestCreate) -> dict[str, Any]:
    return ctx.run(
        lambda uow: requests.file_request(
            uow, body.email, body.room, body.removed_at, body.readded_at, body.note
        )
    )


@router.get("/restore-requests", tags=["restore requests"])
def list_requests(
    ctx: Org, status: str | None = None, limit: Limit = 50, cursor: str | None = None
) -> dict[str, Any]:
    items, nxt = requests.list_requests(ctx.uow(write=False), status, cursor, limit)
    return {"items": items, "next": nxt}


@router.get("/restore-requests/{request_id}", tags=["restore requests"])
def get_request(ctx: Org, request_id: str) -> dict[str, Any]:
    return requests.get_request(ctx.uow(write=False), request_id)


@router.post("/restore-requests/{request_id}/approve", tags=["restore requests"])
def approve_request(
    ctx: Org, request_id: str, membership_id: str | None = None, body: Decision | None = None
) -> dict[str, Any]:
    """Support: run the restore (the best candidate unless ``membership_id`` names one)."""
    return ctx.run(
        lambda uow: requests.approve(uow, request_id, membership_id, body.reason if body else "")
    )


@router.post("/restore-requests/{request_id}/reject", tags=["restore requests"])
def reject_request(ctx: Org, request_id: str, body: Decision) -> dict[str, Any]:
    return ctx.run(lambda uow: requests.reject(uow, request_id, body.reason))


@router.get("/drift", tags=["drift"])
def drift_report(ctx: Org) -> dict[str, Any]:
    """Drift: unmanaged members, inactive users, duplicates, unknown ids, mass removals."""
    return drift.report(ctx.uow(write=False))
