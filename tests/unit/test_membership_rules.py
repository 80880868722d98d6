"""Membership rules, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tenure.domain.directory import Room, entra_soft_delete_original
from tenure.domain.errors import Conflict, InvalidInput
from tenure.domain.membership import (
    EndReason,
    Role,
    RoomPolicy,
    Source,
    Standing,
    StartReason,
    Status,
    new_membership,
)
from tenure.domain.organisation import Organisation, ReaddPolicy

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _member(
    ended_days_ago: int | None = None, reason: EndReason = EndReason.GROUP_REMOVAL, id: str = "m1"
):  # type: ignore[no-untyped-def]
    m = new_membership(
        id=id,
        room_id="r",
        user_id="u",
        role=Role.MEMBER,
        source=Source.SCIM,
        reason=StartReason.GROUP_ADD,
        actor="scim",
        at=NOW - timedelta(days=400),
    )
    if ended_days_ago is not None:
        m.deactivate(reason, "scim", NOW - timedelta(days=ended_days_ago))
    return m


def test_deactivating_closes_the_open_period_and_keeps_the_record() -> None:
    m = _member()
    m.deactivate(EndReason.GROUP_REMOVAL, "scim:token", NOW)
    assert m.status is Status.INACTIVE
    assert m.periods[-1].ended_at == NOW and m.periods[-1].end_reason == "group_removal"


def test_activating_twice_or_deactivating_twice_is_refused() -> None:
    m = _member()
    with pytest.raises(Conflict):
        m.activate(StartReason.REINSTATED, "scim", NOW)
    m.deactivate(EndReason.GROUP_REMOVAL, "scim", NOW)
    with pytest.raises(Conflict):
        m.deactivate(EndReason.GROUP_REMOVAL, "scim", NOW)


def test_reactivation_opens_a_new_period_on_the_same_membership() -> None:
    m = _member(ended_days_ago=3)
    m.activate(StartReason.REINSTATED, "scim", NOW)
    assert [p.start_reason for p in m.periods] == ["group_add", "reinstated"]
    assert m.periods[-1].ended_at is None


def test_reinstate_policy_brings_back_a_recent_idp_removal() -> None:
    policy = RoomPolicy(ReaddPolicy.REINSTATE, 90)
    recent = _member(ended_days_ago=10)
    assert policy.to_reinstate(Standing.of([recent]), NOW) is recent


def test_reinstate_policy_gives_a_fresh_membership_after_the_window() -> None:
    policy = RoomPolicy(ReaddPolicy.REINSTATE, 90)
    assert policy.to_reinstate(Standing.of([_member(ended_days_ago=91)]), NOW) is None


def test_reinstate_picks_the_most_recent_membership() -> None:
    policy = RoomPolicy(ReaddPolicy.REINSTATE, 90)
    older, newer = _member(ended_days_ago=40, id="old"), _member(ended_days_ago=5, id="new")
    assert policy.to_reinstate(Standing.of([older, newer]), NOW) is newer


def test_a_standing_keeps_the_active_and_the_latest_ended_and_counts_them_all() -> None:
    first, tie = _member(ended_days_ago=5, id="a"), _member(ended_days_ago=5, id="b")
    every = [_member(ended_days_ago=9, id="old"), first, tie, _member(id="now")]
    standing = Standing.of(every)
    assert [m.id for m in standing.memberships] == ["a", "now"] and standing.total == 4
    assert standing.active is every[-1] and standing.ended is first
    assert Standing.of([]).active is None and Standing.of([]).ended is None


def test_a_membership_ended_by_support_is_never_silently_reinstated() -> None:
    policy = RoomPolicy(ReaddPolicy.REINSTATE, 90)
    assert (
        policy.to_reinstate(Standing.of([_member(ended_days_ago=1, reason=EndReason.MANUAL)]), NOW)
        is None
    )
    assert (
        policy.to_reinstate(
            Standing.of([_member(ended_days_ago=1, reason=EndReason.SUPERSEDED_BY_RESTORE)]), NOW
        )
        is None
    )


def test_fresh_policy_never_reinstates() -> None:
    assert (
        RoomPolicy(ReaddPolicy.FRESH, 90).to_reinstate(
            Standing.of([_member(ended_days_ago=1)]), NOW
        )
        is None
    )


def test_room_override_wins_and_null_inherits_the_organisation() -> None:
    org = Organisation(
        id="o", slug="o", name="O", readd_policy=ReaddPolicy.REINSTATE, reinstate_window_days=30
    )
    room = Room(id="r", name="R", group_id=None, created_at=NOW)
    assert room.policy(org) == RoomPolicy(ReaddPolicy.REINSTATE, 30)
    room.configure({"readd_policy": "fresh", "reinstate_window_days": 7})
    assert room.policy(org) == RoomPolicy(ReaddPolicy.FRESH, 7)
    room.configure({"readd_policy": None, "reinstate_window_days": None})
    assert room.policy(org) == RoomPolicy(ReaddPolicy.REINSTATE, 30)


def test_roles_and_permissions_are_validated() -> None:
    m = _member()
    m.change_access("room_admin", ["tasks:read"])
    assert m.role is Role.ROOM_ADMIN and m.permissions == ["tasks:read"]
    with pytest.raises(InvalidInput):
        m.change_access("overlord", None)
    with pytest.raises(InvalidInput):
        m.change_access(None, ["launch:missiles"])


def test_entra_soft_delete_rename_is_recognised() -> None:
    assert entra_soft_delete_original("0123456789abcdef0123456789ABCDEFann@x.com") == "ann@x.com"
    assert entra_soft_delete_original("ann@x.com") is None


def test_etag_preconditions_accept_weak_tags_lists_and_star() -> None:
    from tenure.domain.errors import PreconditionFailed
    from tenure.domain.versions import check_if_match, matches

    assert matches(3, 'W/"3"') and matches(3, '"1", W/"3"') and matches(3, "*")
    assert not matches(3, 'W/"2"') and not matches(3, None)
    check_if_match(3, None, "user")  # no precondition sent
    with pytest.raises(PreconditionFailed, match="user changed"):
        check_if_match(3, 'W/"2"', "user")
