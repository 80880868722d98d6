"""Users and groups as the identity provider describes them, and the rooms groups become."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tenure.domain.errors import InvalidInput
from tenure.domain.membership import Role, RoomPolicy, check_role
from tenure.domain.organisation import Organisation, check_policy, check_window

# Entra ID renames a soft-deleted user by prefixing 32 hex characters of its object id to the
# old UPN, and syncs that userName; it must never rebind the identity (IDP-NOTES, Entra).
_ENTRA_RENAME = re.compile(r"^[0-9a-f]{32}(?P<rest>.+)$", re.IGNORECASE)


def entra_soft_delete_original(user_name: str) -> str | None:
    """The userName before Entra's soft-delete rename, or None if this is no such rename."""
    match = _ENTRA_RENAME.match(user_name)
    return match.group("rest") if match else None


@dataclass(slots=True)
class User:
    """A person as the IdP provisions them; ``profile`` holds the attributes as sent."""

    id: str
    user_name: str
    external_id: str | None
    active: bool
    display_name: str | None
    emails: list[str]
    profile: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int = 1
    deleted_at: datetime | None = None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def identity_keys(self) -> set[tuple[str, str]]:
        """Facts that identify the person across re-created records."""
        keys = {("userName", self.user_name.lower())}
        if self.external_id:
            keys.add(("externalId", self.external_id))
        keys.update(("email", e.lower()) for e in self.emails)
        return keys


@dataclass(slots=True)
class Group:
    """A group in the IdP; each becomes a room."""

    id: str
    display_name: str
    external_id: str | None
    profile: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int = 1
    deleted_at: datetime | None = None
    member_count: int = 0


@dataclass(slots=True)
class Room:
    """Where a board or committee works; linked to at most one group."""

    id: str
    name: str
    group_id: str | None
    created_at: datetime
    readd_policy: str | None = None
    reinstate_window_days: int | None = None
    default_role: Role = Role.MEMBER
    extra: dict[str, Any] = field(default_factory=dict)

    def policy(self, org: Organisation) -> RoomPolicy:
        """The re-add policy in force: the room's override, else the organisation's."""
        return RoomPolicy(
            readd_policy=check_policy(self.readd_policy or org.readd_policy.value),
            reinstate_window_days=(
                self.reinstate_window_days
                if self.reinstate_window_days is not None
                else org.reinstate_window_days
            ),
        )

    def configure(self, changes: dict[str, Any]) -> None:
        """Apply admin changes to the room's name and policies (``None`` means inherit)."""
        if "name" in changes:
            name = changes["name"]
            if not isinstance(name, str) or not name.strip():
                raise InvalidInput("name must be a non-empty string")
            self.name = name.strip()
        if "readd_policy" in changes:
            value = changes["readd_policy"]
            self.readd_policy = None if value is None else check_policy(value).value
        if "reinstate_window_days" in changes:
            value = changes["reinstate_window_days"]
            self.reinstate_window_days = None if value is None else check_window(value)
        if "default_role" in changes:
            self.default_role = check_role(changes["default_role"])
