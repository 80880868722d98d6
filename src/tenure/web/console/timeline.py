"""Laying membership periods out on a shared time axis, for the person page's timeline bars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tenure.web.console.render import day, parse_moment, when

WIDTH = 1000  # SVG user units; the drawing stretches to the page width


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    open: bool
    label: str


@dataclass(frozen=True, slots=True)
class Axis:
    start: datetime
    end: datetime

    def at(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        return round(WIDTH * (moment - self.start).total_seconds() / span, 2)

    @property
    def labels(self) -> tuple[str, str]:
        return day(self.start), day(self.end)


def axis(memberships: list[dict[str, Any]], now: datetime | None = None) -> Axis:
    """From the first start of any period to now, with a little room on both sides."""
    now = now or datetime.now(UTC)
    starts = [parse_moment(p["started_at"]) for m in memberships for p in m["periods"]]
    first = min((s for s in starts if s is not None), default=now)
    span = max((now - first).total_seconds(), 3600.0)
    pad = span * 0.02
    return Axis(
        datetime.fromtimestamp(first.timestamp() - pad, UTC),
        datetime.fromtimestamp(now.timestamp() + pad, UTC),
    )


def bars(membership: dict[str, Any], scale: Axis) -> list[Bar]:
    """One bar per period; an open period runs to the end of the axis. Bars are at least visible."""
    out = []
    for p in membership["periods"]:
        start = parse_moment(p["started_at"])
        if start is None:
            continue
        end = parse_moment(p["ended_at"])
        x0 = scale.at(start)
        x1 = scale.at(end) if end else float(WIDTH)
        label = f"{when(start)} → {when(end) if end else 'now'}"
        out.append(Bar(x0, max(x1 - x0, 4.0), end is None, label))
    return out


def by_room(memberships: list[dict[str, Any]]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(room id, room name, memberships newest first), rooms with an active membership first."""
    rooms: dict[str, list[dict[str, Any]]] = {}
    for m in memberships:
        rooms.setdefault(m["room_id"], []).append(m)
    out = []
    for room_id, items in rooms.items():
        items.sort(key=lambda m: (m["status"] != "active", _newest_first(m)))
        out.append((room_id, items[0]["room_name"] or room_id, items))
    out.sort(key=lambda r: (all(m["status"] != "active" for m in r[2]), r[1].lower()))
    return out


def _newest_first(m: dict[str, Any]) -> float:
    starts = [parse_moment(p["started_at"]) for p in m["periods"]]
    found = [s.timestamp() for s in starts if s is not None]
    return -max(found, default=0.0)


EMPTY_SHOWN = 3  # memberships without history shown per room before the rest fold away


def fold(
    items: list[dict[str, Any]], *, everything: bool = False, show: str | None = None
) -> tuple[list[Any], int]:
    """The memberships of one room to show (newest first, as :func:`by_room` orders them),
    and how many are folded away: every active one, every one with history and the one named
    ``show``, and of the others (an IdP assignment that flaps under the ``fresh`` policy
    leaves one per cycle) the newest :data:`EMPTY_SHOWN`. ``everything`` folds nothing."""
    if everything:
        return items, 0
    shown, empty = [], 0
    for m in items:
        if m["status"] == "active" or any(m["history"].values()) or m["id"] == show:
            shown.append(m)
        elif empty < EMPTY_SHOWN:
            shown.append(m)
            empty += 1
    return shown, len(items) - len(shown)
