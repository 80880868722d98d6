"""Request bodies of the admin API (they also document it in the OpenAPI file)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganisationPatch(Strict):
    readd_policy: Literal["reinstate", "fresh"] | None = None
    reinstate_window_days: int | None = None
    self_service_restore: bool | None = None


class RoomCreate(Strict):
    name: str
    readd_policy: Literal["reinstate", "fresh"] | None = None
    reinstate_window_days: int | None = None
    default_role: str | None = None
    group_id: str | None = None


class RoomPatch(Strict):
    name: str | None = None
    readd_policy: Literal["reinstate", "fresh"] | None = None
    reinstate_window_days: int | None = None
    default_role: str | None = None
    group_id: str | None = None


class MembershipCreate(Strict):
    user_id: str
    role: str | None = None
    permissions: list[str] | None = None


class MembershipPatch(Strict):
    role: str | None = None
    permissions: list[str] | None = None


class Deactivation(Strict):
    reason: str | None = None


class MeetingCreate(Strict):
    title: str
    starts_at: str


class AttendanceCreate(Strict):
    membership_id: str


class NoteCreate(Strict):
    membership_id: str
    text: str


class TaskCreate(Strict):
    title: str
    assignee_membership_id: str | None = None


class RestoreCreate(Strict):
    room_id: str
    user_id: str | None = None
    email: str | None = None
    membership_id: str | None = None
    dry_run: bool = False
    merge: bool = True
    reason: str = ""


class RestoreRequestCreate(Strict):
    email: str
    room: str
    removed_at: str | None = None
    readded_at: str | None = None
    note: str = ""


class Decision(Strict):
    reason: str = ""


class BatchRestore(Strict):
    room_id: str
    request_id: str | None = None
    since: str | None = None
    until: str | None = None
    dry_run: bool = False
    reason: str = ""


def changes(model: BaseModel) -> dict[str, Any]:
    """Only the fields the caller sent (``null`` included, meaning 'inherit')."""
    return model.model_dump(exclude_unset=True)
