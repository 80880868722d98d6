"""Meetings, attendance, private notes and tasks: what makes a membership's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.audit import AuditAction, AuditEntry
from tenure.domain.clock import as_utc, utcnow
from tenure.domain.errors import Conflict, InvalidInput, NotFound
from tenure.domain.ids import new_id
from tenure.services.views import iso


def _audit(
    uow: SqlUnitOfWork,
    action: AuditAction,
    kind: str,
    item_id: str,
    at: datetime,
    detail: dict[str, Any],
) -> None:
    uow.audit.add(AuditEntry(action, uow.actor, kind, item_id, uow.request_id, at, detail))


def _text(value: Any, name: str, limit: int = 512) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} must be a non-empty string")
    if len(value) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters")
    return value.strip()


def _moment(value: Any, name: str) -> datetime:
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            pass
    raise InvalidInput(f"{name} must be an ISO 8601 date-time")


def _serialise(row: dict[str, Any]) -> dict[str, Any]:
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in row.items()}


def _room_exists(uow: SqlUnitOfWork, room_id: str) -> None:
    if uow.rooms.get(room_id) is None:
        raise NotFound(f"room {room_id} not found")


def _membership_in(uow: SqlUnitOfWork, membership_id: Any, room_id: str) -> str:
    if not isinstance(membership_id, str):
        raise InvalidInput("membership_id is required")
    m = uow.memberships.get(membership_id, with_periods=False)
    if m is None or m.room_id != room_id:
        raise InvalidInput("membership_id must name a membership of this meeting's room")
    return m.id


def create_meeting(uow: SqlUnitOfWork, room_id: str, title: Any, starts_at: Any) -> dict[str, Any]:
    now = utcnow()
    title = _text(title, "title")
    start = _moment(starts_at, "starts_at")
    with uow:
        _room_exists(uow, room_id)
        meeting_id = new_id()
        uow.history.add_meeting(meeting_id, room_id, title, start, now)
        _audit(
            uow,
            AuditAction.ADMIN_MEETING_CREATE,
            "Meeting",
            meeting_id,
            now,
            {"room_id": room_id, "title": title},
        )
        meeting = uow.history.meeting(meeting_id)
        uow.commit()
    assert meeting is not None
    return _serialise(meeting)


def list_meetings(uow: SqlUnitOfWork, room_id: str) -> list[dict[str, Any]]:
    with uow:
        _room_exists(uow, room_id)
        return [_serialise(m) for m in uow.history.meetings_of_room(room_id)]


def _meeting(uow: SqlUnitOfWork, meeting_id: str) -> dict[str, Any]:
    meeting = uow.history.meeting(meeting_id)
    if meeting is None:
        raise NotFound(f"meeting {meeting_id} not found")
    return meeting


def get_meeting(uow: SqlUnitOfWork, meeting_id: str) -> dict[str, Any]:
    with uow:
        meeting = _serialise(_meeting(uow, meeting_id))
        meeting["attendance"] = [_serialise(a) for a in uow.history.attendance_of(meeting_id)]
        meeting["notes"] = [_serialise(n) for n in uow.history.notes_of(meeting_id)]
        return meeting


def record_attendance(uow: SqlUnitOfWork, meeting_id: str, membership_id: Any) -> dict[str, Any]:
    now = utcnow()
    with uow:
        meeting = _meeting(uow, meeting_id)
        mid = _membership_in(uow, membership_id, meeting["room_id"])
        if uow.history.attended(meeting_id, mid):
            raise Conflict("attendance is already recorded for this membership")
        row_id = new_id()
        uow.history.add_attendance(row_id, meeting_id, mid, now)
        _audit(
            uow,
            AuditAction.ADMIN_ATTENDANCE_RECORD,
            "Attendance",
            row_id,
            now,
            {"meeting_id": meeting_id, "membership_id": mid},
        )
        uow.commit()
    return {"id": row_id, "meeting_id": meeting_id, "membership_id": mid, "recorded_at": iso(now)}


def list_attendance(uow: SqlUnitOfWork, meeting_id: str) -> list[dict[str, Any]]:
    with uow:
        _meeting(uow, meeting_id)
        return [_serialise(a) for a in uow.history.attendance_of(meeting_id)]


def add_note(uow: SqlUnitOfWork, meeting_id: str, membership_id: Any, text: Any) -> dict[str, Any]:
    now = utcnow()
    body = _text(text, "text", 20_000)
    with uow:
        meeting = _meeting(uow, meeting_id)
        mid = _membership_in(uow, membership_id, meeting["room_id"])
        note_id = new_id()
        uow.history.add_note(note_id, meeting_id, mid, body, now)
        _audit(
            uow,
            AuditAction.ADMIN_NOTE_CREATE,
            "Note",
            note_id,
            now,
            {"meeting_id": meeting_id, "membership_id": mid},
        )
        uow.commit()
    return {
        "id": note_id,
        "meeting_id": meeting_id,
        "membership_id": mid,
        "text": body,
        "created_at": iso(now),
    }


def list_notes(uow: SqlUnitOfWork, meeting_id: str) -> list[dict[str, Any]]:
    with uow:
        _meeting(uow, meeting_id)
        return [_serialise(n) for n in uow.history.notes_of(meeting_id)]


def create_task(uow: SqlUnitOfWork, room_id: str, title: Any, assignee: Any) -> dict[str, Any]:
    now = utcnow()
    title = _text(title, "title")
    with uow:
        _room_exists(uow, room_id)
        mid = _membership_in(uow, assignee, room_id) if assignee is not None else None
        task_id = new_id()
        uow.history.add_task(task_id, room_id, title, mid, now)
        _audit(
            uow,
            AuditAction.ADMIN_TASK_CREATE,
            "Task",
            task_id,
            now,
            {"room_id": room_id, "assignee_membership_id": mid},
        )
        uow.commit()
    return {
        "id": task_id,
        "room_id": room_id,
        "title": title,
        "assignee_membership_id": mid,
        "status": "open",
        "created_at": iso(now),
    }


def list_tasks(uow: SqlUnitOfWork, room_id: str) -> list[dict[str, Any]]:
    with uow:
        _room_exists(uow, room_id)
        return [_serialise(t) for t in uow.history.tasks_of_room(room_id)]


def seed_history(uow: SqlUnitOfWork, membership_id: str, items: int) -> dict[str, int]:
    """Give a membership ``items`` history rows at once (benchmarks and demos)."""
    if items < 1:
        raise InvalidInput("items must be at least 1")
    now = utcnow()
    with uow:
        m = uow.memberships.get(membership_id, with_periods=False)
        if m is None:
            raise NotFound(f"membership {membership_id} not found")
        uow.history.bulk_history(m.room_id, m.id, items, now)
        counts = uow.memberships.history_counts([m.id])[m.id]
        uow.commit()
    return counts
