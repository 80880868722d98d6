"""Group PATCH answers, on SQLite and PostgreSQL (docs/decisions/0003)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tenure.settings import Settings
from tenure.web.app import create_app
from tests.conftest import Tenant, make_tenant
from tests.integration.scim_helpers import group_body, patch, user_body

BASE = "/scim/v2"


@pytest.fixture
def small_limit_client(settings: Settings) -> Iterator[TestClient]:
    limited = Settings(database_url=settings.database_url, group_patch_members_max=2)
    with TestClient(create_app(limited)) as client:
        yield client


def test_a_large_group_patch_answers_204_and_a_small_one_the_whole_group(
    small_limit_client: TestClient, tenant: Tenant
) -> None:
    client = small_limit_client
    ids = [
        client.post(f"{BASE}/Users", json=user_body(f"g{i}"), headers=tenant.scim).json()["id"]
        for i in range(3)
    ]
    group = client.post(f"{BASE}/Groups", json=group_body("Sized"), headers=tenant.scim).json()
    add = {"op": "add", "path": "members", "value": [{"value": ids[0]}, {"value": ids[1]}]}
    small = client.patch(f"{BASE}/Groups/{group['id']}", json=patch(add), headers=tenant.scim)
    assert small.status_code == 200
    assert sorted(m["value"] for m in small.json()["members"]) == sorted(ids[:2])
    more = {"op": "add", "path": "members", "value": [{"value": ids[2]}]}
    large = client.patch(f"{BASE}/Groups/{group['id']}", json=patch(more), headers=tenant.scim)
    assert large.status_code == 204 and large.content == b""
    assert large.headers["etag"] == 'W/"3"'
    asked = client.patch(
        f"{BASE}/Groups/{group['id']}",
        params={"attributes": "members"},
        json=patch({"op": "replace", "path": "displayName", "value": "Sized too"}),
        headers=tenant.scim,
    )
    assert asked.status_code == 200 and len(asked.json()["members"]) == 3
    stored = client.get(f"{BASE}/Groups/{group['id']}", headers=tenant.scim).json()
    assert len(stored["members"]) == 3 and stored["displayName"] == "Sized too"


def test_bulk_refuses_a_bulk_id_used_twice(client: TestClient, tenant: Tenant) -> None:
    op = {"method": "POST", "path": "/Users", "bulkId": "same", "data": user_body("twice")}
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [op, {**op, "data": user_body("twice-b")}],
    }
    r = client.post(f"{BASE}/Bulk", json=body, headers=tenant.scim)
    assert r.status_code == 400 and "same" in r.json()["detail"]
    assert (
        client.get(f'{BASE}/Users?filter=userName sw "twice"', headers=tenant.scim).json()[
            "totalResults"
        ]
        == 0
    )


def test_members_are_listed_in_the_order_they_were_added(
    client: TestClient, tenant: Tenant
) -> None:
    ids = [
        client.post(f"{BASE}/Users", json=user_body(f"o{i}"), headers=tenant.scim).json()["id"]
        for i in range(3)
    ]
    first, later = sorted(ids[1:]), ids[0]  # two at creation (then by id), one added later
    groups = []
    for name in ("Ordered A", "Ordered B"):
        made = client.post(f"{BASE}/Groups", json=group_body(name, ids[1:]), headers=tenant.scim)
        add = patch({"op": "add", "path": "members", "value": [{"value": later}]})
        client.patch(f"{BASE}/Groups/{made.json()['id']}", json=add, headers=tenant.scim)
        groups.append(made.json()["id"])
    one = client.get(f"{BASE}/Groups/{groups[0]}", headers=tenant.scim).json()
    assert [m["value"] for m in one["members"]] == [*first, later]
    listed = client.get(
        f"{BASE}/Groups", params={"filter": 'displayName sw "Ordered"'}, headers=tenant.scim
    ).json()["Resources"]
    assert len(listed) == 2
    assert all([m["value"] for m in g["members"]] == [*first, later] for g in listed)


def test_member_changes_that_change_nothing_keep_the_version(
    client: TestClient, tenant: Tenant
) -> None:
    ada, bob = (
        client.post(f"{BASE}/Users", json=user_body(n), headers=tenant.scim).json()["id"]
        for n in ("same-ada", "same-bob")
    )
    made = client.post(f"{BASE}/Groups", json=group_body("Steady", [ada]), headers=tenant.scim)
    url = f"{BASE}/Groups/{made.json()['id']}"
    before = client.get(url, headers=tenant.scim).json()["meta"]
    again = patch(
        {"op": "add", "path": "members", "value": [{"value": ada}]},  # already a member
        {"op": "remove", "path": f'members[value eq "{bob}"]'},  # never was one
        {"op": "Remove", "path": "members", "value": [{"value": bob}]},  # Entra's form
    )
    same = client.patch(url, json=again, headers=tenant.scim)
    assert same.status_code == 200 and same.headers["etag"] == before["version"]
    assert same.json()["meta"] == before
    assert [m["value"] for m in same.json()["members"]] == [ada]
    real = patch({"op": "add", "path": "members", "value": [{"value": bob}]})
    changed = client.patch(url, json=real, headers=tenant.scim)
    assert changed.headers["etag"] != before["version"]
    assert changed.json()["meta"]["lastModified"] > before["lastModified"]


@pytest.mark.parametrize("one_at_a_time", [False, True])
def test_only_live_users_of_the_organisation_become_members(
    client: TestClient, tenant: Tenant, database_url: str, one_at_a_time: bool
) -> None:
    other = make_tenant(database_url, "Other Board")

    def user(name: str, org: Tenant = tenant, **extra: object) -> str:
        body = user_body(name, **extra)
        return str(client.post(f"{BASE}/Users", json=body, headers=org.scim).json()["id"])

    active, inactive, deleted = user("live-a"), user("live-b", active=False), user("live-c")
    assert client.delete(f"{BASE}/Users/{deleted}", headers=tenant.scim).status_code == 204
    elsewhere = user("live-d", other)
    group = client.post(f"{BASE}/Groups", json=group_body("Live only"), headers=tenant.scim)
    url = f"{BASE}/Groups/{group.json()['id']}"
    asked = [active, inactive, deleted, elsewhere, "no-such-user"]
    for values in [[v] for v in asked] if one_at_a_time else [asked]:
        add = patch({"op": "add", "path": "members", "value": [{"value": v} for v in values]})
        assert client.patch(url, json=add, headers=tenant.scim).status_code == 200
    members = client.get(url, headers=tenant.scim).json()["members"]
    assert sorted(m["value"] for m in members) == sorted([active, inactive])


def test_a_group_without_members_has_no_members_attribute(
    client: TestClient, tenant: Tenant
) -> None:
    made = client.post(f"{BASE}/Groups", json=group_body("Nobody yet"), headers=tenant.scim)
    assert made.status_code == 201 and "members" not in made.json()
    read = client.get(f"{BASE}/Groups/{made.json()['id']}", headers=tenant.scim).json()
    assert "members" not in read
