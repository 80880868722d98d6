"""Microsoft Entra ID's provisioning requests, replayed against the live server.

Bodies follow Microsoft's "Develop and plan provisioning for a SCIM endpoint" request
examples and the dialect in /work/shared/IDP-NOTES.md: capitalised ops, "False" strings,
filtered value paths that must create the value, enterprise URN paths, manager as a bare id
or a value array, member value arrays, empty Operations from the validator, soft delete
via ``active`` and the 32-hex rename of a soft-deleted user.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.helpers import (
    ENTERPRISE,
    GROUP,
    LIST_RESPONSE,
    MS_GROUP,
    USER,
    assert_scim_error,
    create_group,
    create_user,
    member_ids,
    patch_body,
    unique,
)


def entra_user(upn: str, external_id: str) -> dict[str, Any]:
    """The create body of Microsoft's tutorial ("Create User"), enterprise extension added."""
    return {
        "schemas": [USER, ENTERPRISE],
        "externalId": external_id,
        "userName": upn,
        "active": True,
        "displayName": "Test User",
        "emails": [{"primary": True, "type": "work", "value": upn}],
        "meta": {"resourceType": "User"},
        "name": {
            "formatted": "givenName familyName",
            "familyName": "familyName",
            "givenName": "givenName",
        },
        "roles": [],
        ENTERPRISE: {"department": "Finance", "employeeNumber": "1001"},
    }


def found(client: httpx.Client, resource: str, scim_filter: str, **params: str) -> list[Any]:
    response = client.get(f"/{resource}", params={"filter": scim_filter, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["schemas"] == [LIST_RESPONSE]
    assert body["totalResults"] == len(body["Resources"])
    resources: list[Any] = body["Resources"]
    return resources


def patch_user(client: httpx.Client, user_id: str, *ops: dict[str, Any]) -> dict[str, Any]:
    response = client.patch(f"/Users/{user_id}", json=patch_body(*ops))
    assert response.status_code == 200, response.text
    patched: dict[str, Any] = response.json()
    return patched


def test_test_connection_filter_on_a_random_guid_answers_an_empty_list(scim: httpx.Client) -> None:
    for attribute in ("userName", "externalId", "id"):
        answer = scim.get("/Users", params={"filter": f'{attribute} eq "{uuid.uuid4()}"'})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/scim+json")
        assert answer.json() == {
            "schemas": [LIST_RESPONSE],
            "totalResults": 0,
            "startIndex": 1,
            "itemsPerPage": 0,
            "Resources": [],
        }


def test_unmatched_user_is_created_and_later_found_by_username_or_external_id(
    scim: httpx.Client,
) -> None:
    upn, external_id = f"{unique('Test_User')}@contoso.com", str(uuid.uuid4())
    assert found(scim, "Users", f'userName eq "{upn}"') == []
    assert found(scim, "Users", f'externalId eq "{external_id}"') == []

    created = scim.post("/Users", json=entra_user(upn, external_id))

    assert created.status_code == 201, created.text
    user = created.json()
    assert created.headers["location"] == user["meta"]["location"]
    assert user["userName"] == upn and user["externalId"] == external_id
    assert user[ENTERPRISE] == {"department": "Finance", "employeeNumber": "1001"}
    assert [u["id"] for u in found(scim, "Users", f'userName eq "{upn}"')] == [user["id"]]
    assert [u["id"] for u in found(scim, "Users", f'externalId eq "{external_id}"')] == [user["id"]]


def test_matching_on_the_work_email_finds_only_that_email_type(scim: httpx.Client) -> None:
    work, home = f"{unique('w')}@contoso.com", f"{unique('h')}@example.com"
    user = create_user(
        scim, emails=[{"type": "work", "value": work}, {"type": "home", "value": home}]
    )

    by_work = found(scim, "Users", f'emails[type eq "work"].value eq "{work.upper()}"')
    by_home_as_work = found(scim, "Users", f'emails[type eq "work"].value eq "{home}"')

    assert [u["id"] for u in by_work] == [user["id"]]
    assert by_home_as_work == []


def test_a_second_create_for_a_matched_user_is_refused_so_entra_never_sees_two_matches(
    scim: httpx.Client,
) -> None:
    upn = f"{unique('dup')}@contoso.com"
    assert scim.post("/Users", json=entra_user(upn, str(uuid.uuid4()))).status_code == 201
    assert_scim_error(
        scim.post("/Users", json=entra_user(upn.upper(), str(uuid.uuid4()))), 409, "uniqueness"
    )
    assert len(found(scim, "Users", f'userName eq "{upn}"')) == 1


def test_capitalised_ops_with_string_booleans_update_the_cached_user(scim: httpx.Client) -> None:
    user = create_user(scim, f"{unique('cap')}@contoso.com", active=True)

    patched = patch_user(
        scim,
        user["id"],
        {"op": "Replace", "path": "displayName", "value": "Renamed User"},
        {"op": "Add", "path": "name.givenName", "value": "Ann"},
        {"op": "Replace", "path": "active", "value": "False"},
    )

    assert patched["displayName"] == "Renamed User"
    assert patched["name"]["givenName"] == "Ann"
    assert patched["active"] is False
    assert scim.get(f"/Users/{user['id']}").json()["active"] is False


def test_filtered_email_and_address_paths_create_the_work_value_when_none_exists(
    scim: httpx.Client,
) -> None:
    user = create_user(scim, emails=[{"type": "home", "value": "home@example.com"}])

    patched = patch_user(
        scim,
        user["id"],
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "ann@contoso.com"},
        {"op": "Add", "path": 'addresses[type eq "work"].formatted', "value": "1 Main St"},
        {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 555 0100"},
    )

    assert {"type": "work", "value": "ann@contoso.com"} in patched["emails"]
    assert {"type": "home", "value": "home@example.com"} in patched["emails"]
    assert patched["addresses"] == [{"type": "work", "formatted": "1 Main St"}]
    assert patched["phoneNumbers"] == [{"type": "mobile", "value": "+1 555 0100"}]
    assert found(scim, "Users", 'emails[type eq "work" and value eq "ann@contoso.com"]')


def test_filtered_email_path_updates_the_existing_work_email_in_place(scim: httpx.Client) -> None:
    user = create_user(scim, emails=[{"type": "work", "value": "old@contoso.com", "primary": True}])

    patched = patch_user(
        scim,
        user["id"],
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "new@contoso.com"},
    )

    assert patched["emails"] == [{"type": "work", "value": "new@contoso.com", "primary": True}]


def test_enterprise_urn_paths_set_department_and_a_manager_sent_as_a_bare_id(
    scim: httpx.Client,
) -> None:
    manager = create_user(scim)
    user = create_user(scim)

    patched = patch_user(
        scim,
        user["id"],
        {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Sales"},
        {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": manager["id"]},
    )

    assert patched[ENTERPRISE]["department"] == "Sales"
    assert patched[ENTERPRISE]["manager"]["value"] == manager["id"]
    assert ENTERPRISE in patched["schemas"]
    assert (
        found(scim, "Users", f'{ENTERPRISE}:manager.value eq "{manager["id"]}"')[0]["id"]
        == (user["id"])
    )


def test_manager_sent_as_a_value_array_replaces_and_an_empty_string_clears_it(
    scim: httpx.Client,
) -> None:
    first, second = create_user(scim), create_user(scim)
    extension: dict[str, Any] = {ENTERPRISE: {"manager": {"value": first["id"]}}}
    user = create_user(scim, None, schemas=[USER, ENTERPRISE], **extension)

    moved = patch_user(
        scim,
        user["id"],
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": [{"value": second["id"]}]},
    )
    assert moved[ENTERPRISE]["manager"]["value"] == second["id"]

    cleared = patch_user(
        scim, user["id"], {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": ""}
    )
    assert "manager" not in cleared.get(ENTERPRISE, {})


def test_groups_are_matched_on_display_name_without_their_members(scim: httpx.Client) -> None:
    name = unique("Finance Board")
    member = create_user(scim)
    assert found(scim, "Groups", f'displayName eq "{name}"', excludedAttributes="members") == []
    group = create_group(scim, name, [member["id"]])

    matches = found(
        scim, "Groups", f'displayName eq "{name.upper()}"', excludedAttributes="members"
    )

    assert [g["id"] for g in matches] == [group["id"]]
    assert "members" not in matches[0]
    single = scim.get(f"/Groups/{group['id']}", params={"excludedAttributes": "members"})
    assert single.status_code == 200 and "members" not in single.json()
    assert single.json()["displayName"] == name


def test_group_created_with_microsofts_extra_schema_urn_is_accepted(scim: httpx.Client) -> None:
    created = scim.post(
        "/Groups",
        json={
            "schemas": [GROUP, MS_GROUP],
            "externalId": str(uuid.uuid4()),
            "displayName": unique("Entra Group"),
            "members": [],
        },
    )

    assert created.status_code == 201, created.text
    # Echoed back, the unpublished URN would break clients that check ``schemas`` against
    # /Schemas; Microsoft's own example response lists only the core schema.
    assert created.json()["schemas"] == [GROUP]
    assert scim.get(f"/Groups/{created.json()['id']}").json()["schemas"] == [GROUP]
    listed = found(scim, "Groups", f'displayName eq "{created.json()["displayName"]}"')
    assert [g["schemas"] for g in listed] == [[GROUP]]


def test_member_value_arrays_add_several_and_remove_only_the_named_members(
    scim: httpx.Client,
) -> None:
    people = [create_user(scim)["id"] for _ in range(4)]
    group = create_group(scim)

    added = scim.patch(
        f"/Groups/{group['id']}",
        json=patch_body({"op": "Add", "path": "members", "value": [{"value": p} for p in people]}),
    )
    assert added.status_code in (200, 204), added.text
    assert member_ids(scim, group["id"]) == set(people)

    removed = scim.patch(
        f"/Groups/{group['id']}",
        json=patch_body(
            {
                "op": "Remove",
                "path": "members",
                "value": [{"value": people[0]}, {"value": people[2]}],
            }
        ),
    )
    assert removed.status_code in (200, 204), removed.text
    assert member_ids(scim, group["id"]) == {people[1], people[3]}


def test_empty_operations_from_entras_validator_change_nothing(scim: httpx.Client) -> None:
    user = create_user(scim, displayName="Unchanged")
    group = create_group(scim)

    user_answer = scim.patch(f"/Users/{user['id']}", json=patch_body())
    group_answer = scim.patch(f"/Groups/{group['id']}", json=patch_body())

    assert user_answer.status_code == 200, user_answer.text
    assert user_answer.json()["displayName"] == "Unchanged"
    assert user_answer.json()["meta"]["version"] == user["meta"]["version"]
    assert group_answer.status_code in (200, 204), group_answer.text


def test_soft_delete_deactivates_but_keeps_the_user_and_its_group_memberships(
    scim: httpx.Client,
) -> None:
    user = create_user(scim, active=True)
    group = create_group(scim, members=[user["id"]])

    disabled = patch_user(scim, user["id"], {"op": "Replace", "path": "active", "value": "False"})

    assert disabled["active"] is False
    assert found(scim, "Users", f'id eq "{user["id"]}" and active eq false')
    assert user["id"] in member_ids(scim, group["id"])
    # Entra re-enables a restored user without re-sending its groups (IDP-NOTES).
    enabled = patch_user(scim, user["id"], {"op": "Replace", "path": "active", "value": "True"})
    assert enabled["active"] is True
    assert [g["value"] for g in enabled["groups"]] == [group["id"]]


def test_soft_delete_rename_with_32_hex_characters_keeps_the_same_user(scim: httpx.Client) -> None:
    upn = f"{unique('leaver')}@contoso.com"
    user = create_user(scim, upn, externalId=str(uuid.uuid4()))
    patch_user(scim, user["id"], {"op": "Replace", "path": "active", "value": "False"})
    renamed_upn = uuid.uuid4().hex + upn

    renamed = patch_user(
        scim, user["id"], {"op": "Replace", "path": "userName", "value": renamed_upn}
    )

    assert renamed["id"] == user["id"] and renamed["userName"] == renamed_upn
    assert renamed["active"] is False
    assert [u["id"] for u in found(scim, "Users", f'userName eq "{renamed_upn}"')] == [user["id"]]
    assert found(scim, "Users", f'userName eq "{upn}"') == []
    assert [u["id"] for u in found(scim, "Users", f'externalId eq "{user["externalId"]}"')] == [
        user["id"]
    ]


def test_hard_delete_removes_the_user_from_reads_and_groups(scim: httpx.Client) -> None:
    upn = f"{unique('gone')}@contoso.com"
    user = create_user(scim, upn)
    group = create_group(scim, members=[user["id"]])

    deleted = scim.delete(f"/Users/{user['id']}")

    assert deleted.status_code == 204 and deleted.content == b""
    assert_scim_error(scim.get(f"/Users/{user['id']}"), 404)
    assert found(scim, "Users", f'userName eq "{upn}"') == []
    assert member_ids(scim, group["id"]) == set()
    assert_scim_error(scim.delete(f"/Users/{user['id']}"), 404)


def test_rfc_dialect_with_lowercase_ops_and_dotted_pathless_keys_is_understood(
    scim: httpx.Client,
) -> None:
    user = create_user(scim, name={"givenName": "Old", "familyName": "Name"})
    other = create_user(scim)
    group = create_group(scim, members=[user["id"], other["id"]])

    patched = patch_user(
        scim,
        user["id"],
        {
            "op": "replace",
            "value": {"name.givenName": "New", "displayName": "New Name", "active": False},
        },
    )
    removed = scim.patch(
        f"/Groups/{group['id']}",
        json=patch_body({"op": "remove", "path": f'members[value eq "{user["id"]}"]'}),
    )

    assert patched["name"] == {"givenName": "New", "familyName": "Name"}
    assert patched["displayName"] == "New Name" and patched["active"] is False
    assert removed.status_code in (200, 204), removed.text
    assert member_ids(scim, group["id"]) == {other["id"]}
