"""The console's small pure helpers: safe redirects, readable times, actors, timeline bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tenure.adapters.db.migrate import upgrade
from tenure.settings import Settings
from tenure.web.app import create_app
from tenure.web.console.render import actor, environment, safe_next, when
from tenure.web.console.timeline import EMPTY_SHOWN, WIDTH, axis, bars, by_room, fold
from tests.conftest import Tenant, make_tenant


@contextmanager
def _signed_in(folder: Path) -> Iterator[tuple[TestClient, Tenant]]:
    """The console on a fresh SQLite database, signed in as a new organisation's admin."""
    url = f"sqlite:///{folder / 'console.db'}"
    upgrade(url)
    tenant = make_tenant(url)
    with TestClient(create_app(Settings(database_url=url))) as client:
        client.cookies.set("tenure_key", tenant.admin_key)
        yield client, tenant


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example", "/\\evil.example", "/\t/evil.example", "", None],
)
def test_a_return_path_that_could_leave_the_site_falls_back_to_the_overview(
    target: str | None,
) -> None:
    assert safe_next(target) == "/"


def test_a_local_return_path_is_kept() -> None:
    assert safe_next("/people?email=ada%40example.com") == "/people?email=ada%40example.com"


def test_times_read_as_a_day_month_year_and_utc_clock() -> None:
    assert when("2026-03-03T09:14:59.123Z") == "3 Mar 2026, 09:14 UTC"
    assert when("2026-03-03T10:14:00+01:00") == "3 Mar 2026, 09:14 UTC"
    assert when(None) == "—"


def test_actors_read_as_who_not_as_ids() -> None:
    assert actor("api_key:01abc-123456789") == "API key …456789"
    assert actor("scim_token:tok-999999") == "IdP (SCIM) …999999"
    assert actor("cli:tenure") == "command line"


def test_templates_escape_what_they_show() -> None:
    rendered = environment().from_string("{{ value }}").render(value="<script>x</script>")
    assert rendered == "&lt;script&gt;x&lt;/script&gt;"


def membership(room: str, status: str, *periods: tuple[str, str | None]) -> dict[str, object]:
    return {
        "room_id": room,
        "room_name": room.title(),
        "status": status,
        "periods": [{"started_at": s, "ended_at": e} for s, e in periods],
    }


def test_each_period_is_a_bar_and_an_open_one_runs_to_now() -> None:
    old = membership("audit", "inactive", ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"))
    new = membership("audit", "active", ("2026-03-01T00:00:00Z", None))
    scale = axis([old, new], now=datetime(2026, 4, 1, tzinfo=UTC))
    [closed] = bars(old, scale)
    [current] = bars(new, scale)
    assert 0 < closed.x < current.x < WIDTH
    assert not closed.open and current.open
    assert current.x + current.width == WIDTH


def test_rooms_with_an_active_membership_come_first_and_active_memberships_lead() -> None:
    gone = membership("finance", "inactive", ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"))
    old = membership("audit", "inactive", ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"))
    new = membership("audit", "active", ("2026-03-01T00:00:00Z", None))
    grouped = by_room([gone, old, new])
    assert [room for room, _, _ in grouped] == ["audit", "finance"]
    assert [m["status"] for m in grouped[0][2]] == ["active", "inactive"]


def test_memberships_without_history_beyond_the_newest_fold_away_and_nothing_else_does() -> None:
    def m(i: str, status: str = "inactive", meetings: int = 0) -> dict[str, object]:
        return {"id": i, "status": status, "history": {"meetings": meetings, "notes": 0}}

    items = [m("now", "active"), *(m(f"e{i}") for i in range(5)), m("kept", meetings=2)]
    shown, folded = fold(items)
    assert [x["id"] for x in shown] == ["now", "e0", "e1", "e2", "kept"] and folded == 2
    assert EMPTY_SHOWN == 3
    assert fold(items, everything=True) == (items, 0)
    shown, folded = fold(items, show="e4")
    assert [x["id"] for x in shown][-2:] == ["e4", "kept"] and folded == 1


def test_a_person_whose_assignment_flapped_shows_the_newest_and_can_show_all(
    tmp_path: Path,
) -> None:
    with _signed_in(tmp_path) as (client, tenant):
        client.patch("/api/v1/organisation", headers=tenant.admin, json={"readd_policy": "fresh"})
        user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "flo"}
        flo = client.post("/scim/v2/Users", json=user, headers=tenant.scim).json()["id"]
        group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Risk"}
        gid = client.post("/scim/v2/Groups", json=group, headers=tenant.scim).json()["id"]
        patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}
        add = patch | {"Operations": [{"op": "add", "path": "members", "value": [{"value": flo}]}]}
        remove = patch | {"Operations": [{"op": "remove", "path": f'members[value eq "{flo}"]'}]}
        for _ in range(6):
            client.patch(f"/scim/v2/Groups/{gid}", json=add, headers=tenant.scim)
            client.patch(f"/scim/v2/Groups/{gid}", json=remove, headers=tenant.scim)
        client.patch(f"/scim/v2/Groups/{gid}", json=add, headers=tenant.scim)
        every = client.get(f"/api/v1/users/{flo}/memberships", headers=tenant.admin).json()
        oldest = min(every["items"], key=lambda x: x["created_at"])["id"]

        page = client.get(f"/people/{flo}").text
        assert page.count(' id="m-') == 4  # the active one and 3 newest
        assert "3 earlier memberships without history" in page and "Show all 7" in page
        assert f'id="m-{oldest}"' not in page
        everything = client.get(f"/people/{flo}?all").text
        assert everything.count(' id="m-') == 7
        assert "without history" not in everything
        assert f'id="m-{oldest}"' in client.get(f"/people/{flo}", params={"show": oldest}).text
        assert f"?show={oldest}#m-{oldest}" in client.get(f"/memberships/{oldest}").text


def test_the_audit_page_filters_by_actor_and_day(tmp_path: Path) -> None:
    with _signed_in(tmp_path) as (client, tenant):
        client.patch("/api/v1/organisation", headers=tenant.admin, json={"readd_policy": "fresh"})
        listed = client.get("/audit").text.count  # the action filter's suggestions add one each

        def rows(text: str, action: str) -> int:
            return text.count(action) - client.get(
                "/audit", params={"since": "2999-01-01"}
            ).text.count(action)

        assert listed("admin:organisation:update") >= 2
        by_cli = client.get("/audit", params={"actor": "cli:tenure"}).text
        assert rows(by_cli, "admin:organisation:update") == 0
        assert rows(by_cli, "cli:organisation:create") >= 1


def test_a_person_without_email_reads_as_their_username_alone(tmp_path: Path) -> None:
    with _signed_in(tmp_path) as (client, tenant):
        user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}
        bare = client.post("/scim/v2/Users", json=user | {"userName": "kim"}, headers=tenant.scim)
        mailed = client.post(
            "/scim/v2/Users",
            json=user | {"userName": "lou", "emails": [{"value": "lou@example.com"}]},
            headers=tenant.scim,
        )
        assert '<p class="muted">kim</p>' in client.get(f"/people/{bare.json()['id']}").text
        assert (
            '<p class="muted">lou · lou@example.com</p>'
            in client.get(f"/people/{mailed.json()['id']}").text
        )
