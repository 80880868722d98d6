"""What IdP events do to memberships, run on in-memory fakes (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tenure.domain.directory import Room
from tenure.domain.membership import EndReason, Role, Source, StartReason, new_membership
from tenure.domain.organisation import Organisation, ReaddPolicy
from tenure.services import lifecycle
from tests.unit.fakes import FakeUnitOfWork

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
ROOM = Room(id="r1", name="Audit", group_id="g1", created_at=NOW, default_role=Role.OBSERVER)


def _uow(policy: ReaddPolicy = ReaddPolicy.REINSTATE) -> Any:
    return FakeUnitOfWork(Organisation(id="o1", slug="o", name="O", readd_policy=policy))


def _ended(uow: Any, days_ago: int, user: str = "u1") -> str:
    m = new_membership(
        id=f"m-{user}",
        room_id="r1",
        user_id=user,
        role=Role.ROOM_ADMIN,
        source=Source.SCIM,
        reason=StartReason.GROUP_ADD,
        actor="scim",
        at=NOW - timedelta(days=400),
    )
    m.deactivate(EndReason.GROUP_REMOVAL, "scim", NOW - timedelta(days=days_ago))
    uow.memberships.rows[m.id] = m
    return m.id


def test_readding_within_window_reinstates_previous_membership() -> None:
    uow = _uow()
    old = _ended(uow, days_ago=3)
    lifecycle.join_room(uow, ROOM, ["u1"], NOW)
    back = uow.memberships.rows[old]
    assert back.is_active and back.role is Role.ROOM_ADMIN
    assert len(uow.memberships.rows) == 1
    assert [e.action.value for e in uow.audit.entries] == ["scim:membership:reinstate"]


def test_readding_under_fresh_creates_an_empty_membership_with_the_default_role() -> None:
    uow = _uow(ReaddPolicy.FRESH)
    old = _ended(uow, days_ago=3)
    lifecycle.join_room(uow, ROOM, ["u1"], NOW)
    new = [m for m in uow.memberships.rows.values() if m.id != old]
    assert len(new) == 1 and new[0].is_active and new[0].role is Role.OBSERVER
    assert not uow.memberships.rows[old].is_active


def test_adding_a_present_member_changes_nothing() -> None:
    uow = _uow()
    lifecycle.join_room(uow, ROOM, ["u2"], NOW)
    lifecycle.join_room(uow, ROOM, ["u2"], NOW)
    assert len(uow.memberships.rows) == 1
    assert len(uow.audit.entries) == 1


def test_leaving_ends_the_membership_with_the_reason_and_keeps_it() -> None:
    uow = _uow()
    lifecycle.join_room(uow, ROOM, ["u3"], NOW)
    lifecycle.leave_room(uow, ROOM, ["u3"], EndReason.GROUP_REMOVAL, NOW)
    (m,) = uow.memberships.rows.values()
    assert not m.is_active and m.last_end_reason == "group_removal"
    assert m.periods[-1].ended_at == NOW
