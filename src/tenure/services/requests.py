"""Self-service restore requests: org admins file, support approves (restores) or rejects."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.audit import AuditAction, AuditEntry
from tenure.domain.clock import utcnow
from tenure.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from tenure.domain.ids import cursor_id, new_id
from tenure.services.candidates import parse_moment, rank
from tenure.services.restore import RestoreCommand, _execute
from tenure.services.rooms import resolve_room
from tenure.services.views import iso, one_page


def _dict(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "email": row["email"],
        "room_id": row["room_id"],
        "removed_at": iso(row["removed_at"]),
        "readded_at": iso(row["readded_at"]),
        "note": row["note"],
        "status": row["status"],
        "requested_by": row["requested_by"],
        "decided_by": row["decided_by"],
        "decided_at": iso(row["decided_at"]),
        "decision_reason": row["decision_reason"],
        "restore_id": row["restore_id"],
        "created_at": iso(row["created_at"]),
    }


def file_request(
    uow: SqlUnitOfWork, email: Any, room_ref: Any, removed_at: Any, readded_at: Any, note: Any
) -> dict[str, Any]:
    """File a request; the answer already lists the candidate memberships."""
    if not isinstance(email, str) or "@" not in email:
        raise InvalidInput("email must be an e-mail address")
    if not isinstance(room_ref, str) or not room_ref:
        raise InvalidInput("room is required (id or name)")
    removed = parse_moment(removed_at, "removed_at")
    readded = parse_moment(readded_at, "readded_at")
    now = utcnow()
    with uow:
        room = resolve_room(uow, room_ref)
        found = rank(uow, email, room.id, removed, readded)
        request_id = new_id()
        uow.restores.add_request(
            {
                "id": request_id,
                "email": email,
                "room_id": room.id,
                "removed_at": removed,
                "readded_at": readded,
                "note": note if isinstance(note, str) else "",
                "status": "pending",
                "requested_by": str(uow.actor),
                "created_at": now,
            }
        )
        uow.audit.add(
            AuditEntry(
                AuditAction.ADMIN_RESTORE_REQUEST_FILE,
                uow.actor,
                "RestoreRequest",
                request_id,
                uow.request_id,
                now,
                {"email": email, "room_id": room.id},
            )
        )
        row = uow.restores.request(request_id)
        uow.commit()
    assert row is not None
    return {**_dict(row), "candidates": found}


def get_request(uow: SqlUnitOfWork, request_id: str) -> dict[str, Any]:
    with uow:
        row = uow.restores.request(request_id)
        if row is None:
            raise NotFound(f"restore request {request_id} not found")
        data = _dict(row)
        if row["status"] == "pending":
            data["candidates"] = rank(
                uow, row["email"], row["room_id"], row["removed_at"], row["readded_at"]
            )
        return data


def list_requests(
    uow: SqlUnitOfWork, status: str | None, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    if status not in (None, "pending", "approved", "rejected"):
        raise InvalidInput("status must be pending, approved or rejected")
    before = cursor_id(cursor)
    with uow:
        read = uow.restores.requests(status=status, before=before, limit=limit + 1)
    rows, after = one_page(read, limit, itemgetter("id"))
    return [_dict(r) for r in rows], after


def _require_support(uow: SqlUnitOfWork) -> None:
    if uow.actor.kind not in ("cli", "system") and uow.actor.role != "support":
        raise Forbidden("only platform support decides restore requests")


def _pending(uow: SqlUnitOfWork, request_id: str) -> dict[str, Any]:
    _require_support(uow)
    row = uow.restores.request(request_id, lock=True)
    if row is None:
        raise NotFound(f"restore request {request_id} not found")
    if row["status"] != "pending":
        raise Conflict(f"this request was already {row['status']}")
    return row


def approve(
    uow: SqlUnitOfWork, request_id: str, membership_id: str | None, reason: str
) -> dict[str, Any]:
    """Run the restore the request asks for and record the outcome on the request."""
    now = utcnow()
    with uow:
        row = _pending(uow, request_id)
        if membership_id is None:
            best = [
                c
                for c in rank(
                    uow, row["email"], row["room_id"], row["removed_at"], row["readded_at"]
                )
                if c["membership"]["status"] == "inactive"
            ]
            if not best:
                raise Conflict("no inactive membership matches this request")
            membership_id = best[0]["membership"]["id"]
        cmd = RestoreCommand(
            room_id=row["room_id"],
            email=row["email"],
            membership_id=membership_id,
            reason=reason or f"restore request {request_id}",
        )
        result = _execute(uow, cmd, now, str(uow.actor))
        uow.restores.decide_request(
            request_id,
            status="approved",
            decided_by=str(uow.actor),
            decided_at=now,
            decision_reason=reason,
            restore_id=result["id"],
        )
        uow.audit.add(
            AuditEntry(
                AuditAction.SUPPORT_RESTORE_REQUEST_APPROVE,
                uow.actor,
                "RestoreRequest",
                request_id,
                uow.request_id,
                now,
                {"restore_id": result["id"]},
            )
        )
        out = _dict(uow.restores.request(request_id) or {})
        uow.commit()
    return {**out, "restore": result}


def reject(uow: SqlUnitOfWork, request_id: str, reason: str) -> dict[str, Any]:
    if not reason.strip():
        raise InvalidInput("say why the request is rejected")
    now = utcnow()
    with uow:
        _pending(uow, request_id)
        uow.restores.decide_request(
            request_id,
            status="rejected",
            decided_by=str(uow.actor),
            decided_at=now,
            decision_reason=reason,
        )
        uow.audit.add(
            AuditEntry(
                AuditAction.SUPPORT_RESTORE_REQUEST_REJECT,
                uow.actor,
                "RestoreRequest",
                request_id,
                uow.request_id,
                now,
                {"reason": reason},
            )
        )
        out = _dict(uow.restores.request(request_id) or {})
        uow.commit()
    return out
