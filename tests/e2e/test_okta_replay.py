"""Okta's provisioning requests, and its SPEC-test expectations, replayed against the server.

Request shapes follow Okta's "SCIM 2.0 protocol reference" and /work/shared/IDP-NOTES.md:
a filtered GET with startIndex=1&count=100 before every create, POST with a password and
``groups: []``, full PUT after GET, path-less ``active`` replaces, pushed groups with
``members[value eq "…"]`` removes, and the checks of Okta's Runscope SPEC tests.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.conftest import Server
from tests.e2e.helpers import (
    GROUP,
    USER,
    assert_scim_error,
    create_group,
    create_user,
    member_ids,
    patch_body,
    unique,
)


def okta_user(login: str) -> dict[str, Any]:
    """Okta's create body: externalId, a password it expects us to ignore, empty groups."""
    return {
        "schemas": [USER],
        "userName": login,
        "name": {"givenName": "Okta", "familyName": "User"},
        "emails": [{"primary": True, "value": login, "type": "work"}],
        "displayName": "Okta User",
        "locale": "en-US",
        "externalId": "00u" + uuid.uuid4().hex[:17],
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }


def lookup(client: httpx.Client, login: str) -> dict[str, Any]:
    response = client.get(
        "/Users", params={"filter": f'userName eq "{login}"', "startIndex": "1", "count": "100"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_okta_looks_up_then_creates_a_user_and_never_gets_the_password_back(
    scim: httpx.Client,
) -> None:
    login = f"{unique('Okta.User')}@example.com"
    assert lookup(scim, login)["totalResults"] == 0

    created = scim.post("/Users", json=okta_user(login))

    assert created.status_code == 201, created.text
    user = created.json()
    assert "password" not in user and "password" not in created.text
    assert "groups" not in user or user["groups"] == []
    assert user["active"] is True and user["externalId"].startswith("00u")
    fetched = scim.get(f"/Users/{user['id']}")
    assert "password" not in fetched.json()
    assert lookup(scim, login)["Resources"][0]["id"] == user["id"]


def test_a_duplicate_user_name_is_409_so_okta_stops_instead_of_creating_twice(
    scim: httpx.Client,
) -> None:
    login = f"{unique('twice')}@example.com"
    assert scim.post("/Users", json=okta_user(login)).status_code == 201

    again = scim.post("/Users", json=okta_user(login))

    assert_scim_error(again, 409, "uniqueness")
    assert lookup(scim, login)["totalResults"] == 1


def test_full_put_after_get_updates_the_profile_and_keeps_the_user_active(
    scim: httpx.Client,
) -> None:
    user = scim.post("/Users", json=okta_user(f"{unique('put')}@example.com")).json()
    current = scim.get(f"/Users/{user['id']}").json()
    current["name"]["givenName"] = "Changed"
    current["title"] = "Chair"

    replaced = scim.put(f"/Users/{user['id']}", json=current)

    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["name"]["givenName"] == "Changed"
    assert replaced.json()["title"] == "Chair"
    assert replaced.json()["active"] is True


def test_put_that_leaves_out_active_does_not_deactivate_anyone(scim: httpx.Client) -> None:
    user = scim.post("/Users", json=okta_user(f"{unique('noactive')}@example.com")).json()
    body = {k: v for k, v in user.items() if k not in ("active", "meta", "groups")}

    replaced = scim.put(f"/Users/{user['id']}", json=body)

    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["active"] is True


def test_pathless_active_replace_deactivates_and_reactivates(scim: httpx.Client) -> None:
    user = scim.post("/Users", json=okta_user(f"{unique('toggle')}@example.com")).json()

    off = scim.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "replace", "value": {"active": False}})
    )
    assert off.status_code == 200, off.text
    assert off.json()["active"] is False
    assert scim.get(f"/Users/{user['id']}").json()["active"] is False

    on = scim.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "replace", "value": {"active": True}})
    )
    assert on.json()["active"] is True


def test_pushed_group_is_created_with_empty_members(scim: httpx.Client) -> None:
    pushed = scim.post(
        "/Groups", json={"schemas": [GROUP], "displayName": unique("Okta Push"), "members": []}
    )

    assert pushed.status_code == 201, pushed.text
    assert pushed.json().get("members", []) == []
    assert pushed.headers["location"].endswith(pushed.json()["id"])


def test_group_rename_by_pathless_replace_with_id_and_display_name(scim: httpx.Client) -> None:
    member = create_user(scim)
    group = create_group(scim, members=[member["id"]])
    new_name = unique("Renamed Board")

    renamed = scim.patch(
        f"/Groups/{group['id']}",
        json=patch_body({"op": "replace", "value": {"id": group["id"], "displayName": new_name}}),
    )

    assert renamed.status_code in (200, 204), renamed.text
    after = scim.get(f"/Groups/{group['id']}").json()
    assert after["displayName"] == new_name
    assert {m["value"] for m in after["members"]} == {member["id"]}


def test_renaming_a_group_to_another_groups_name_is_409(scim: httpx.Client) -> None:
    taken = create_group(scim)
    group = create_group(scim)

    clash = scim.patch(
        f"/Groups/{group['id']}",
        json=patch_body(
            {"op": "replace", "value": {"id": group["id"], "displayName": taken["displayName"]}}
        ),
    )

    assert_scim_error(clash, 409, "uniqueness")


def test_member_filter_remove_and_add_in_one_patch(scim: httpx.Client) -> None:
    leaving, staying, joining = (create_user(scim)["id"] for _ in range(3))
    group = create_group(scim, members=[leaving, staying])

    changed = scim.patch(
        f"/Groups/{group['id']}",
        json=patch_body(
            {"op": "remove", "path": f'members[value eq "{leaving}"]'},
            {"op": "add", "path": "members", "value": [{"value": joining, "display": "joiner"}]},
        ),
    )

    assert changed.status_code in (200, 204), changed.text
    assert member_ids(scim, group["id"]) == {staying, joining}


def test_replacing_all_members_keeps_exactly_the_ones_sent(scim: httpx.Client) -> None:
    old = [create_user(scim)["id"] for _ in range(3)]
    new = [old[0], create_user(scim)["id"]]
    group = create_group(scim, members=old)

    replaced = scim.patch(
        f"/Groups/{group['id']}",
        json=patch_body({"op": "replace", "path": "members", "value": [{"value": v} for v in new]}),
    )

    assert replaced.status_code in (200, 204), replaced.text
    assert member_ids(scim, group["id"]) == set(new)


def test_unknown_member_ids_in_a_push_do_not_fail_it_and_valid_ones_are_applied(
    scim: httpx.Client,
) -> None:
    known = create_user(scim)["id"]
    later = create_user(scim)["id"]
    ghost = str(uuid.uuid4())

    pushed = scim.post(
        "/Groups",
        json={
            "schemas": [GROUP],
            "displayName": unique("Push"),
            "members": [{"value": ghost}, {"value": known}],
        },
    )
    assert pushed.status_code == 201, pushed.text
    assert {m["value"] for m in pushed.json()["members"]} == {known}

    updated = scim.patch(
        f"/Groups/{pushed.json()['id']}",
        json=patch_body(
            {
                "op": "add",
                "path": "members",
                "value": [{"value": "00u-not-here"}, {"value": later}],
            },
            {"op": "remove", "path": f'members[value eq "{uuid.uuid4()}"]'},
        ),
    )
    assert updated.status_code in (200, 204), updated.text
    assert member_ids(scim, pushed.json()["id"]) == {known, later}


def test_list_paging_fields_are_integers(scim: httpx.Client) -> None:
    create_user(scim)

    body = scim.get("/Users", params={"startIndex": "1", "count": "2"}).json()

    for field in ("totalResults", "startIndex", "itemsPerPage"):
        assert type(body[field]) is int, (field, body[field])
    assert body["startIndex"] == 1 and body["itemsPerPage"] <= 2


def test_unknown_user_name_filter_answers_200_with_zero_results(scim: httpx.Client) -> None:
    body = lookup(scim, f"{uuid.uuid4()}@example.com")

    assert body["totalResults"] == 0 and body["Resources"] == []


def test_unknown_ids_answer_404_with_an_error_body(scim: httpx.Client) -> None:
    ghost = str(uuid.uuid4())
    for method, path in (
        ("GET", f"/Users/{ghost}"),
        ("GET", f"/Groups/{ghost}"),
        ("DELETE", f"/Users/{ghost}"),
        ("DELETE", f"/Groups/{ghost}"),
    ):
        assert_scim_error(scim.request(method, path), 404)
    assert_scim_error(
        scim.patch(
            f"/Users/{ghost}", json=patch_body({"op": "replace", "value": {"active": False}})
        ),
        404,
    )
    assert_scim_error(scim.put(f"/Users/{ghost}", json=okta_user("ghost@example.com")), 404)


def test_user_name_filter_is_case_insensitive(scim: httpx.Client) -> None:
    login = f"{unique('MiXeD.Case')}@Example.com"
    user = scim.post("/Users", json=okta_user(login)).json()

    for variant in (login.lower(), login.upper(), login):
        body = lookup(scim, variant)
        assert [u["id"] for u in body["Resources"]] == [user["id"]], variant


def test_bad_or_missing_token_is_401_with_a_string_status(server: Server) -> None:
    for headers in ({"Authorization": "Bearer not-a-token"}, {}, {"Authorization": "Basic eDp5"}):
        answer = httpx.get(f"{server.base_url}/Users", headers=headers)
        assert_scim_error(answer, 401)
        assert answer.json()["status"] == "401"
        assert answer.headers["www-authenticate"].lower().startswith("bearer")
