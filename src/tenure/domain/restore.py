"""Restore plans: bring back a person's earlier membership (B) in place of the current one (A).

The plan is computed the same way for a dry run and for the real thing; executing it inside
one transaction is the service's job. Every refusal is a domain error a support engineer can
act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tenure.domain.directory import Room, User
from tenure.domain.errors import Conflict, InvalidInput, NotFound
from tenure.domain.membership import Membership

HISTORY_KINDS = ("meetings", "notes", "tasks")


def has_history(counts: dict[str, int]) -> bool:
    return any(counts.get(k, 0) for k in HISTORY_KINDS)


def choose_target(
    candidates: list[Membership], counts: dict[str, dict[str, int]], membership_id: str | None
) -> Membership:
    """B: the named membership, else the most recent inactive one that carries history."""
    if membership_id is not None:
        for m in candidates:
            if m.id == membership_id:
                if m.is_active:
                    raise Conflict(
                        f"membership {m.id} is already active: there is nothing to restore"
                    )
                return m
        raise NotFound(
            f"membership {membership_id} is not one of this person's memberships in the room"
        )
    inactive = [m for m in candidates if not m.is_active]
    with_history = [m for m in inactive if has_history(counts.get(m.id, {}))]
    pool = with_history or []
    if not pool and any(m.is_active and has_history(counts.get(m.id, {})) for m in candidates):
        # Typically a restore that just won a race: the history is already back in use.
        raise Conflict(
            "the active membership already carries this person's history: nothing to restore"
        )
    if not pool:
        raise NotFound(
            "this person has no inactive membership with history in the room; "
            "name one with membership_id to restore an empty one"
        )
    return max(pool, key=lambda m: (m.last_ended_at or m.created_at, m.id))


@dataclass(slots=True)
class RestorePlan:
    """What a restore will do; ``as_dict`` is the dry-run answer."""

    room: Room
    user: User
    target: Membership  # B
    current: Membership | None  # A
    counts: dict[str, dict[str, int]]
    merge: bool
    moves: dict[str, list[str]]  # history rows to move from A to B, by kind
    kept_on_current: dict[str, list[str]]
    relink_from: str | None
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        *,
        room: Room,
        user: User,
        target: Membership,
        current: Membership | None,
        counts: dict[str, dict[str, int]],
        merge: bool,
        current_items: dict[str, list[str]],
        clashes: list[str],
        in_group: bool | None,
        group_name: str | None,
    ) -> RestorePlan:
        if user.is_deleted:
            raise Conflict(
                "this person's account is deleted in the identity provider: re-provision them first"
            )
        if room.group_id is not None and not in_group:
            raise Conflict(
                f"{user.user_name} is not in the group {group_name!r} that manages this room: "
                f"add them to {group_name!r} in the identity provider first, otherwise it could "
                "never remove them again"
            )
        if current is not None and current.id == target.id:
            raise Conflict("that membership is already the active one")
        if current is not None and not current.is_active:
            raise InvalidInput("the current membership must be active")
        moves: dict[str, list[str]] = {"attendance": [], "notes": [], "tasks": []}
        kept: dict[str, list[str]] = {"attendance": [], "notes": [], "tasks": []}
        warnings: list[str] = []
        if current is not None:
            clash = set(clashes)
            for kind, ids in current_items.items():
                for item in ids:
                    if merge and item not in clash:
                        moves[kind].append(item)
                    else:
                        kept[kind].append(item)
            if clash and merge:
                warnings.append(
                    f"{len(clash)} attendance record(s) on the current membership are for meetings "
                    "the restored one attended too; they stay where they are"
                )
            if not merge and has_history(counts.get(current.id, {})):
                warnings.append(
                    "merge is off: history created on the current membership stays on it "
                    "(inactive after the restore)"
                )
            if current.role != target.role:
                warnings.append(
                    f"the role changes from {current.role.value} back to {target.role.value}"
                )
        relink = target.user_id if target.user_id != user.id else None
        if relink:
            warnings.append(
                "the restored membership belonged to an earlier, deleted record of this person; "
                "it is re-linked to the current one"
            )
        if target.last_end_reason in ("manual", "superseded_by_restore"):
            warnings.append(
                f"that membership was ended by a person ({target.last_end_reason}), not by the IdP"
            )
        return cls(room, user, target, current, counts, merge, moves, kept, relink, warnings)

    def as_dict(self) -> dict[str, Any]:
        def side(m: Membership | None) -> dict[str, Any] | None:
            if m is None:
                return None
            return {
                "id": m.id,
                "user_id": m.user_id,
                "status": m.status.value,
                "role": m.role.value,
                "permissions": m.permissions,
                "history": self.counts.get(m.id, {}),
                "ended_at": m.last_ended_at.isoformat() if m.last_ended_at else None,
                "end_reason": m.last_end_reason,
            }

        return {
            "room_id": self.room.id,
            "user_id": self.user.id,
            "deactivate": side(self.current),
            "reactivate": side(self.target),
            "access_after": {
                "role": self.target.role.value,
                "permissions": self.target.permissions,
            },
            "merge": self.merge,
            "moves": {k: len(v) for k, v in self.moves.items()},
            "stays_on_deactivated": {k: len(v) for k, v in self.kept_on_current.items()},
            "relink_from_user_id": self.relink_from,
            "warnings": self.warnings,
        }
