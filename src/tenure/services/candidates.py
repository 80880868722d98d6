"""Finding the right membership from a support request: ranked candidates with reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.clock import as_utc
from tenure.domain.errors import InvalidInput, NotFound
from tenure.domain.restore import has_history
from tenure.services.directory import identities
from tenure.services.rooms import resolve_room
from tenure.services.views import membership_views


def parse_moment(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            pass
    raise InvalidInput(f"{name} must be an ISO 8601 date or date-time")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _counts(history: dict[str, int]) -> str:
    return ", ".join(
        (
            _plural(history["meetings"], "meeting"),
            _plural(history["notes"], "note"),
            _plural(history["tasks"], "task"),
        )
    )


def _closeness(moment: datetime | None, target: datetime | None) -> float:
    """1.0 when the same instant, fading to 0 over about a month."""
    if moment is None or target is None:
        return 0.0
    days = abs((as_utc(moment) - target).total_seconds()) / 86400
    return max(0.0, 1.0 - days / 30)


def rank(
    uow: SqlUnitOfWork,
    email: str,
    room_ref: str | None,
    removed_at: datetime | None,
    readded_at: datetime | None,
) -> list[dict[str, Any]]:
    """Candidate memberships to restore, best first, each saying why it matches."""
    if not email:
        raise InvalidInput("email is required")
    people = identities(uow, email=email)
    if not people:
        raise NotFound(f"nobody was ever known by {email!r}")
    room = resolve_room(uow, room_ref) if room_ref else None
    current = {u.id for u in people if not u.is_deleted}
    memberships = [
        m
        for m in uow.memberships.of_users([u.id for u in people])
        if room is None or m.room_id == room.id
    ]
    views = membership_views(uow, memberships)
    ranked: list[dict[str, Any]] = []
    for view in views:
        m = view.membership
        reasons, score = [], 0.0
        if m.user_id in current:
            reasons.append("belongs to the person's current account")
            score += 1.0
        else:
            reasons.append("belongs to an earlier, deleted account with the same e-mail or name")
            score += 0.6
        if m.is_active:
            reasons.append("is the active membership now (the one a restore would replace)")
            score -= 2.0
        if has_history(view.history):
            reasons.append(f"carries history: {_counts(view.history)}")
            score += 1.0 + min(1.0, sum(view.history.values()) / 50)
        else:
            reasons.append("has no history")
        near_removal = _closeness(m.last_ended_at, removed_at)
        if near_removal:
            ended = as_utc(m.last_ended_at).date()  # type: ignore[arg-type]
            why = (m.last_end_reason or "").replace("_", " ")
            reasons.append(f"ended {ended} ({why}), close to the given removal date")
            score += near_removal
        if readded_at is not None and m.is_active:
            near_readd = _closeness(m.last_started_at, readded_at)
            if near_readd:
                reasons.append("started close to the given re-add date")
        ranked.append({"score": round(score, 3), "reasons": reasons, "membership": view.as_dict()})
    ranked.sort(key=lambda c: (-c["score"], c["membership"]["id"]))
    return ranked


def candidates(
    uow: SqlUnitOfWork, email: str, room_ref: str | None, removed_at: Any, readded_at: Any
) -> list[dict[str, Any]]:
    removed = parse_moment(removed_at, "removed_at")
    readded = parse_moment(readded_at, "readded_at")
    with uow:
        return rank(uow, email, room_ref, removed, readded)
