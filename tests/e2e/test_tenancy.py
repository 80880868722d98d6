"""One organisation's SCIM token can never read, find, count, reference or change another's data.

Two organisations share the live server. The second one probes the first through every
door a SCIM client has: ids, filters, counts, sorting, searches, Bulk, member references,
ETags and names. Everything it tries must look exactly as if the first did not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.e2e.helpers import (
    GROUP,
    SEARCH_REQUEST,
    USER,
    assert_scim_error,
    bulk_body,
    create_group,
    create_user,
    member_ids,
    patch_body,
)


@pytest.fixture
def victim(server: Server) -> Iterator[dict[str, Any]]:
    """A fresh organisation holding one user in one group, and its client."""
    with server.new_tenant("Victim Board").client() as client:
        yield _populate(client)


def _populate(client: httpx.Client) -> dict[str, Any]:
    user = create_user(
        client,
        "secret.person@victim.example",
        externalId="victim-ext-1",
        title="Treasurer",
        emails=[{"type": "work", "value": "secret.person@victim.example"}],
    )
    group = create_group(client, "Victim Audit Committee", [user["id"]])
    return {"client": client, "user": user, "group": group}


@pytest.fixture
def intruder(server: Server) -> Iterator[httpx.Client]:
    with server.new_tenant("Intruder Board").client() as client:
        yield client


def test_another_organisation_cannot_read_the_users_or_groups_by_id(
    victim: dict[str, Any], intruder: httpx.Client
) -> None:
    assert_scim_error(intruder.get(f"/Users/{victim['user']['id']}"), 404)
    assert_scim_error(intruder.get(f"/Groups/{victim['group']['id']}"), 404)
    etag = victim["user"]["meta"]["version"]
    # an ETag guess must not reveal existence either: 404, never 304
    assert_scim_error(
        intruder.get(f"/Users/{victim['user']['id']}", headers={"If-None-Match": etag}), 404
    )


def test_filters_searches_and_counts_never_see_the_other_organisation(
    victim: dict[str, Any], intruder: httpx.Client
) -> None:
    user, group = victim["user"], victim["group"]
    user_filters = [
        f'id eq "{user["id"]}"',
        'userName eq "secret.person@victim.example"',
        'externalId eq "victim-ext-1"',
        'emails co "victim"',
        'title eq "Treasurer"',
        "userName pr",
        f'groups.value eq "{group["id"]}"',
    ]
    group_filters = [
        f'id eq "{group["id"]}"',
        'displayName co "Victim"',
        f'members[value eq "{user["id"]}"]',
        "displayName pr",
    ]

    for scim_filter in user_filters:
        answer = intruder.get("/Users", params={"filter": scim_filter})
        if answer.status_code == 400:  # an attribute that cannot be filtered, never a leak
            continue
        assert answer.json()["totalResults"] == 0, scim_filter
    for scim_filter in group_filters:
        assert intruder.get("/Groups", params={"filter": scim_filter}).json()["totalResults"] == 0
    assert intruder.get("/Users").json()["totalResults"] == 0
    assert intruder.get("/Groups", params={"sortBy": "displayName"}).json()["totalResults"] == 0
    everything = intruder.post("/.search", json={"schemas": [SEARCH_REQUEST], "filter": "id pr"})
    assert everything.json()["totalResults"] == 0


def test_another_organisation_cannot_change_or_delete_anything(
    victim: dict[str, Any], intruder: httpx.Client
) -> None:
    user, group, owner = victim["user"], victim["group"], victim["client"]
    attempts = [
        intruder.patch(
            f"/Users/{user['id']}", json=patch_body({"op": "replace", "value": {"active": False}})
        ),
        intruder.put(f"/Users/{user['id']}", json={"schemas": [USER], "userName": "hijack"}),
        intruder.delete(f"/Users/{user['id']}", headers={"If-Match": "*"}),
        intruder.patch(
            f"/Groups/{group['id']}", json=patch_body({"op": "remove", "path": "members"})
        ),
        intruder.put(f"/Groups/{group['id']}", json={"schemas": [GROUP], "displayName": "x"}),
        intruder.delete(f"/Groups/{group['id']}"),
    ]

    for answer in attempts:
        assert_scim_error(answer, 404)
    after = owner.get(f"/Users/{user['id']}").json()
    assert after["active"] is True and after["userName"] == user["userName"]
    assert after["meta"]["version"] == user["meta"]["version"]
    assert member_ids(owner, group["id"]) == {user["id"]}


def test_another_organisations_user_ids_cannot_become_members(
    victim: dict[str, Any], intruder: httpx.Client
) -> None:
    stolen = victim["user"]["id"]
    own = create_user(intruder)

    pushed = intruder.post(
        "/Groups",
        json={
            "schemas": [GROUP],
            "displayName": "Lookalike",
            "members": [{"value": stolen}, {"value": own["id"]}],
        },
    )
    assert pushed.status_code == 201, pushed.text
    group_id = pushed.json()["id"]
    added = intruder.patch(
        f"/Groups/{group_id}",
        json=patch_body(
            {"op": "add", "path": "members", "value": [{"value": stolen}]},
            {
                "op": "replace",
                "path": "members",
                "value": [{"value": stolen}, {"value": own["id"]}],
            },
        ),
    )

    assert added.status_code in (200, 204), added.text
    assert member_ids(intruder, group_id) == {own["id"]}
    owner = victim["client"]
    assert [g["value"] for g in owner.get(f"/Users/{stolen}").json()["groups"]] == [
        victim["group"]["id"]
    ]


def test_bulk_cannot_reach_across_organisations(
    victim: dict[str, Any], intruder: httpx.Client
) -> None:
    user, group = victim["user"], victim["group"]

    answer = intruder.post(
        "/Bulk",
        json=bulk_body(
            {
                "method": "PATCH",
                "path": f"/Users/{user['id']}",
                "data": patch_body({"op": "replace", "path": "active", "value": False}),
            },
            {"method": "DELETE", "path": f"/Groups/{group['id']}"},
            {
                "method": "PUT",
                "path": f"/Users/{user['id']}",
                "version": user["meta"]["version"],
                "data": {"schemas": [USER], "userName": "hijack"},
            },
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "g",
                "data": {
                    "schemas": [GROUP],
                    "displayName": "Bulk Lookalike",
                    "members": [{"value": user["id"]}],
                },
            },
        ),
    )

    statuses = [op["status"] for op in answer.json()["Operations"]]
    assert statuses == ["404", "404", "404", "201"]
    created = answer.json()["Operations"][3]["location"].rsplit("/", 1)[1]
    assert member_ids(intruder, created) == set()
    owner = victim["client"]
    assert owner.get(f"/Users/{user['id']}").json()["active"] is True
    assert owner.get(f"/Groups/{group['id']}").status_code == 200


def test_names_are_per_organisation_and_reusing_one_changes_nothing_for_the_other(
    victim: dict[str, Any], intruder: httpx.Client
) -> None:
    user, group, owner = victim["user"], victim["group"], victim["client"]

    twin = intruder.post(
        "/Users",
        json={"schemas": [USER], "userName": user["userName"], "externalId": "victim-ext-1"},
    )
    twin_group = intruder.post(
        "/Groups", json={"schemas": [GROUP], "displayName": group["displayName"]}
    )

    assert twin.status_code == 201 and twin.json()["id"] != user["id"]
    assert twin_group.status_code == 201 and twin_group.json()["id"] != group["id"]
    mine = owner.get("/Users", params={"filter": f'userName eq "{user["userName"]}"'}).json()
    assert [u["id"] for u in mine["Resources"]] == [user["id"]]
    assert owner.get("/Groups").json()["totalResults"] == 1
