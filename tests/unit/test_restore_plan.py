"""Restore plans, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tenure.domain.directory import Room, User
from tenure.domain.errors import Conflict, NotFound
from tenure.domain.membership import (
    EndReason,
    Membership,
    Role,
    Source,
    StartReason,
    new_membership,
)
from tenure.domain.restore import RestorePlan, choose_target

NOW = datetime(2026, 11, 1, tzinfo=UTC)
ROOM = Room(id="r", name="Audit", group_id="g", created_at=NOW)
USER = User(
    id="u2",
    user_name="ann@x.com",
    external_id="e1",
    active=True,
    display_name=None,
    emails=["ann@x.com"],
    profile={},
    created_at=NOW,
    updated_at=NOW,
)


def _m(id: str, user: str = "u2", active: bool = False, role: Role = Role.MEMBER) -> Membership:
    m = new_membership(
        id=id,
        room_id="r",
        user_id=user,
        role=role,
        source=Source.SCIM,
        reason=StartReason.GROUP_ADD,
        actor="scim",
        at=NOW,
    )
    if not active:
        m.deactivate(EndReason.GROUP_REMOVAL, "scim", NOW)
    return m


def _plan(
    target: Membership,
    current: Membership | None,
    *,
    in_group: bool = True,
    merge: bool = True,
    clashes: list[str] | None = None,
) -> RestorePlan:
    counts = {target.id: {"meetings": 3, "notes": 2, "tasks": 1}}
    if current:
        counts[current.id] = {"meetings": 1, "notes": 0, "tasks": 0}
    return RestorePlan.build(
        room=ROOM,
        user=USER,
        target=target,
        current=current,
        counts=counts,
        merge=merge,
        current_items={"attendance": ["a1", "a2"], "notes": [], "tasks": []},
        clashes=clashes or [],
        in_group=in_group,
        group_name="Audit Committee",
    )


def test_default_target_is_the_most_recent_inactive_membership_with_history() -> None:
    empty, full = _m("empty"), _m("full")
    assert choose_target([empty, full], {"full": {"meetings": 1}}, None) is full


def test_no_history_anywhere_is_not_found() -> None:
    with pytest.raises(NotFound):
        choose_target([_m("x")], {}, None)


def test_the_active_membership_cannot_be_the_target() -> None:
    with pytest.raises(Conflict):
        choose_target([_m("a", active=True)], {}, "a")


def test_refused_while_the_person_is_not_in_the_rooms_group() -> None:
    with pytest.raises(Conflict, match="Audit Committee"):
        _plan(_m("b"), _m("a", active=True), in_group=False)


def test_merge_moves_history_from_the_current_membership_except_clashing_attendance() -> None:
    plan = _plan(_m("b"), _m("a", active=True), clashes=["a2"])
    assert plan.moves["attendance"] == ["a1"] and plan.kept_on_current["attendance"] == ["a2"]
    assert any("attended too" in w for w in plan.warnings)


def test_without_merge_nothing_moves() -> None:
    plan = _plan(_m("b"), _m("a", active=True), merge=False)
    assert plan.moves == {"attendance": [], "notes": [], "tasks": []}


def test_a_membership_of_an_earlier_record_is_relinked() -> None:
    plan = _plan(_m("b", user="u1"), None)
    assert plan.relink_from == "u1"
    assert plan.as_dict()["deactivate"] is None


def test_the_plan_says_when_the_role_changes_back() -> None:
    plan = _plan(_m("b", role=Role.ROOM_ADMIN), _m("a", active=True))
    assert plan.as_dict()["access_after"]["role"] == "room_admin"
    assert any("role changes" in w for w in plan.warnings)
