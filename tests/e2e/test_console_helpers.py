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
from tenure.web.console.timeline import WIDTH, axis, bars, by_room
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
