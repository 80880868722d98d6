"""Memberships: one person's place in one room, with every period it was active.

A membership is never deleted. Deactivating it closes its current period; activating
it again opens a new one, so roles, permissions and history stay with the same record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from tenure.domain.clock import as_utc
from tenure.domain.errors import Conflict, InvalidInput
from tenure.domain.organisation import ReaddPolicy


class Status(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class Role(StrEnum):
    MEMBER = "member"
    ROOM_ADMIN = "room_admin"
    ASSISTANT = "assistant"
    GUEST = "guest"
    OBSERVER = "observer"


class Source(StrEnum):
    SCIM = "scim"
    MANUAL = "manual"
    RESTORE = "restore"


class StartReason(StrEnum):
    GROUP_ADD = "group_add"
    REINSTATED = "reinstated"
    USER_REACTIVATED = "user_reactivated"
    RESTORED = "restored"
    MANUAL = "manual"
    ADOPTED = "adopted"
    RESTORE_UNDONE = "restore_undone"


class EndReason(StrEnum):
    GROUP_REMOVAL = "group_removal"
    USER_DEACTIVATED = "user_deactivated"
    USER_DELETED = "user_deleted"
    GROUP_DELETED = "group_deleted"
    SUPERSEDED_BY_RESTORE = "superseded_by_restore"
    MANUAL = "manual"
    RESTORE_UNDONE = "restore_undone"


# Ends the identity provider caused; only these make a membership eligible for reinstatement.
IDP_END_REASONS = frozenset(
    {
        EndReason.GROUP_REMOVAL,
        EndReason.USER_DEACTIVATED,
        EndReason.USER_DELETED,
        EndReason.GROUP_DELETED,
    }
)

PERMISSIONS = frozenset(
    {
        "meetings:read",
        "meetings:write",
        "minutes:read",
        "minutes:write",
        "tasks:read",
        "tasks:write",
        "notes:write",
        "documents:read",
        "documents:write",
        "members:manage",
    }
)

DEFAULT_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.MEMBER: (
        "meetings:read",
        "minutes:read",
        "tasks:read",
        "tasks:write",
        "notes:write",
        "documents:read",
    ),
    Role.ROOM_ADMIN: tuple(sorted(PERMISSIONS)),
    Role.ASSISTANT: (
        "meetings:read",
        "meetings:write",
        "minutes:read",
        "minutes:write",
        "tasks:read",
        "tasks:write",
        "documents:read",
        "documents:write",
    ),
    Role.GUEST: ("meetings:read", "documents:read"),
    Role.OBSERVER: ("meetings:read", "minutes:read"),
}


def check_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"role must be one of: {allowed}") from None


def check_permissions(values: Iterable[str]) -> list[str]:
    values = list(values)
    if not all(isinstance(v, str) for v in values):
        raise InvalidInput("permissions must be a list of strings")
    unknown = sorted(set(values) - PERMISSIONS)
    if unknown:
        raise InvalidInput(f"unknown permissions: {', '.join(unknown)}")
    return sorted(set(values))


@dataclass(slots=True)
class Period:
    """One stretch of time during which a membership was active."""

    started_at: datetime
    start_reason: str
    started_by: str
    ended_at: datetime | None = None
    end_reason: str | None = None
    ended_by: str | None = None
    id: int | None = None


@dataclass(slots=True)
class Membership:
    """A person's place in a room: role, permissions, and the periods it was active."""

    id: str
    room_id: str
    user_id: str
    role: Role
    permissions: list[str]
    source: Source
    status: Status
    created_at: datetime
    last_started_at: datetime | None = None
    last_ended_at: datetime | None = None
    last_end_reason: str | None = None
    periods: list[Period] = field(default_factory=list)
    last_actor: str | None = None  # who made the latest change (not stored on the row)

    @property
    def is_active(self) -> bool:
        return self.status is Status.ACTIVE

    def activate(self, reason: StartReason, actor: str, at: datetime) -> Period:
        """Open a new period; the caller persists it."""
        if self.is_active:
            raise Conflict(f"membership {self.id} is already active")
        self.status = Status.ACTIVE
        self.last_started_at = at
        self.last_actor = actor
        period = Period(started_at=at, start_reason=reason.value, started_by=actor)
        self.periods.append(period)
        return period

    def deactivate(self, reason: EndReason, actor: str, at: datetime) -> None:
        """Close the current period; nothing is deleted."""
        if not self.is_active:
            raise Conflict(f"membership {self.id} is already inactive")
        self.status = Status.INACTIVE
        self.last_ended_at = at
        self.last_end_reason = reason.value
        self.last_actor = actor
        if self.periods and self.periods[-1].ended_at is None:
            current = self.periods[-1]
            current.ended_at, current.end_reason, current.ended_by = at, reason.value, actor

    def change_access(self, role: str | None, permissions: Iterable[str] | None) -> None:
        """Set role and permissions; SCIM never calls this, so they survive every sync."""
        if role is not None:
            self.role = check_role(role)
        if permissions is not None:
            self.permissions = check_permissions(permissions)

    def ended_by_idp_since(self, cutoff: datetime) -> bool:
        """Whether the IdP ended this membership at or after ``cutoff``."""
        return (
            not self.is_active
            and self.last_end_reason in IDP_END_REASONS
            and self.last_ended_at is not None
            and as_utc(self.last_ended_at) >= as_utc(cutoff)
        )


@dataclass(slots=True)
class Standing:
    """As much of one person's memberships in one room as a re-add needs (a removal needs
    only the active one).

    ``memberships`` holds their active membership and the one most recently ended (each if
    any); ``total`` counts every membership they have had in the room. An assignment that
    flaps under the ``fresh`` policy leaves a membership per cycle: a change reads two of
    them, whatever the number.
    """

    memberships: list[Membership] = field(default_factory=list)
    total: int = 0

    @classmethod
    def of(cls, every: Iterable[Membership]) -> Standing:
        """The standing among all of a person's memberships in one room: the latest ended
        is the one with the latest ``last_ended_at``, the first in ``every`` on a tie (the
        repository reads it in SQL by the same rule)."""
        every = list(every)
        ended = [m for m in every if not m.is_active and m.last_ended_at is not None]
        latest = max(ended, key=lambda m: as_utc(m.last_ended_at), default=None)  # type: ignore[arg-type]
        return cls([m for m in every if m.is_active or m is latest], len(every))

    @property
    def active(self) -> Membership | None:
        return next((m for m in self.memberships if m.is_active), None)

    @property
    def ended(self) -> Membership | None:
        """The most recently ended membership."""
        return next((m for m in self.memberships if not m.is_active), None)


def new_membership(
    *,
    id: str,
    room_id: str,
    user_id: str,
    role: Role,
    source: Source,
    reason: StartReason,
    actor: str,
    at: datetime,
    permissions: Iterable[str] | None = None,
) -> Membership:
    """A new, empty, active membership with its first period open."""
    membership = Membership(
        id=id,
        room_id=room_id,
        user_id=user_id,
        role=role,
        permissions=check_permissions(
            DEFAULT_PERMISSIONS[role] if permissions is None else permissions
        ),
        source=source,
        status=Status.INACTIVE,
        created_at=at,
    )
    membership.activate(reason, actor, at)
    return membership


@dataclass(frozen=True, slots=True)
class RoomPolicy:
    """The re-add policy in force for one room (room override, else organisation)."""

    readd_policy: ReaddPolicy
    reinstate_window_days: int

    def to_reinstate(self, previous: Standing, now: datetime) -> Membership | None:
        """The inactive membership a re-added person gets back, or None for a fresh one.

        Under ``reinstate`` it is the most recent membership, if the IdP ended it within the
        window; a membership ended by support or an admin is never brought back silently.
        """
        if self.readd_policy is ReaddPolicy.FRESH:
            return None
        latest = previous.ended
        cutoff = now - timedelta(days=self.reinstate_window_days)
        if latest is not None and latest.ended_by_idp_since(cutoff):
            return latest
        return None
