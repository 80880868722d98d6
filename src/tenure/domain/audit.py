"""Audit actions, named ``source:subject:action``, written with the change they describe."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AuditAction(StrEnum):
    SCIM_USER_CREATE = "scim:user:create"
    SCIM_USER_REPLACE = "scim:user:replace"
    SCIM_USER_UPDATE = "scim:user:update"
    SCIM_USER_DEACTIVATE = "scim:user:deactivate"
    SCIM_USER_REACTIVATE = "scim:user:reactivate"
    SCIM_USER_DELETE = "scim:user:delete"
    SCIM_GROUP_CREATE = "scim:group:create"
    SCIM_GROUP_REPLACE = "scim:group:replace"
    SCIM_GROUP_UPDATE = "scim:group:update"
    SCIM_GROUP_DELETE = "scim:group:delete"
    SCIM_GROUP_MEMBERS = "scim:group:members"
    SCIM_GROUP_UNKNOWN_MEMBERS = "scim:group:unknown_members"
    SCIM_MEMBERSHIP_ACTIVATE = "scim:membership:activate"
    SCIM_MEMBERSHIP_REINSTATE = "scim:membership:reinstate"
    SCIM_MEMBERSHIP_DEACTIVATE = "scim:membership:deactivate"
    ADMIN_ORGANISATION_UPDATE = "admin:organisation:update"
    ADMIN_ROOM_CREATE = "admin:room:create"
    ADMIN_ROOM_UPDATE = "admin:room:update"
    ADMIN_MEMBERSHIP_CREATE = "admin:membership:create"
    ADMIN_MEMBERSHIP_UPDATE = "admin:membership:update"
    ADMIN_MEMBERSHIP_DEACTIVATE = "admin:membership:deactivate"
    SCIM_MEMBERSHIP_ADOPT = "scim:membership:adopt"
    ADMIN_MEETING_CREATE = "admin:meeting:create"
    ADMIN_ATTENDANCE_RECORD = "admin:attendance:record"
    ADMIN_NOTE_CREATE = "admin:note:create"
    ADMIN_TASK_CREATE = "admin:task:create"
    SUPPORT_MEMBERSHIP_RESTORE = "support:membership:restore"
    SUPPORT_RESTORE_UNDO = "support:restore:undo"
    SUPPORT_BATCH_RESTORE = "support:batch:restore"
    ADMIN_RESTORE_REQUEST_FILE = "admin:restore_request:file"
    SUPPORT_RESTORE_REQUEST_APPROVE = "support:restore_request:approve"
    SUPPORT_RESTORE_REQUEST_REJECT = "support:restore_request:reject"
    CLI_ORGANISATION_CREATE = "cli:organisation:create"
    CLI_TOKEN_CREATE = "cli:token:create"
    CLI_TOKEN_REVOKE = "cli:token:revoke"
    CLI_APIKEY_CREATE = "cli:apikey:create"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a change: a SCIM token, an API key, or the command line."""

    kind: str  # "scim_token" | "api_key" | "cli" | "system"
    id: str
    role: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


SYSTEM = Actor("system", "tenure")
CLI = Actor("cli", "tenure")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded change."""

    action: AuditAction
    actor: Actor
    resource_type: str
    resource_id: str
    request_id: str | None
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)
