"""Rooms and memberships as the IdP drives them, seen through the admin API."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import Tenant
from tests.integration.scim_helpers import patch
from tests.integration.story import API, SCIM, board


def test_creating_a_group_creates_its_room_and_renaming_follows(
    client: TestClient, tenant: Tenant
) -> None:
    b = board(client, tenant, "Finance")
    room = client.get(f"{API}/rooms/{b.room_id}", headers=tenant.admin).json()
    assert room["name"] == "Finance" and room["readd_policy"] is None
    client.patch(
        f"{SCIM}/Groups/{b.group_id}",
        headers=tenant.scim,
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "replace", "value": {"id": b.group_id, "displayName": "Finance & Risk"}}
            ],
        },
    )
    assert (
        client.get(f"{API}/rooms/{b.room_id}", headers=tenant.admin).json()["name"]
        == "Finance & Risk"
    )


def test_removal_deactivates_and_readding_reinstates_the_same_membership(
    client: TestClient, tenant: Tenant
) -> None:
    b = board(client, tenant)
    ann = b.user("ann")
    b.add(ann)
    first = b.active(ann)
    assert first is not None and first["source"] == "scim"
    client.patch(
        f"{API}/memberships/{first['id']}", headers=tenant.admin, json={"role": "room_admin"}
    )
    b.remove(ann)
    assert b.active(ann) is None
    ended = b.memberships(ann)[0]
    assert ended["status"] == "inactive" and ended["periods"][-1]["end_reason"] == "group_removal"
    b.add(ann)
    again = b.active(ann)
    assert again is not None and again["id"] == first["id"]
    assert again["role"] == "room_admin"
    assert [p["start_reason"] for p in again["periods"]] == ["group_add", "reinstated"]


def test_fresh_policy_gives_a_readded_person_a_new_empty_membership(
    client: TestClient, tenant: Tenant
) -> None:
    b = board(client, tenant)
    b.settings(readd_policy="fresh")
    bo = b.user("bo")
    b.add(bo)
    first = b.active(bo)
    assert first is not None
    b.give_history(first["id"])
    b.remove(bo, okta=True)
    b.add(bo)
    second = b.active(bo)
    assert second is not None and second["id"] != first["id"]
    assert second["history"] == {"meetings": 0, "notes": 0, "tasks": 0}
    old = next(m for m in b.memberships(bo) if m["id"] == first["id"])
    assert old["status"] == "inactive" and old["history"] == {"meetings": 1, "notes": 1, "tasks": 1}


def test_room_override_beats_the_organisation_policy(client: TestClient, tenant: Tenant) -> None:
    b = board(client, tenant)
    r = client.patch(
        f"{API}/rooms/{b.room_id}", headers=tenant.admin, json={"readd_policy": "fresh"}
    )
    assert (
        r.json()["readd_policy"] == "fresh"
        and r.json()["effective_policy"]["readd_policy"] == "fresh"
    )
    cy = b.user("cy")
    b.add(cy)
    first = b.active(cy)
    b.remove(cy)
    b.add(cy)
    assert b.active(cy)["id"] != first["id"]  # type: ignore[index]


def test_disabling_a_user_ends_memberships_and_enabling_brings_the_same_ones_back(
    client: TestClient, tenant: Tenant
) -> None:
    b = board(client, tenant)
    b.settings(
        readd_policy="fresh"
    )  # re-enabling is not a re-add: even under fresh it is the same one
    di = b.user("di")
    b.add(di)
    first = b.active(di)
    b.set_active(di, False)
    assert b.active(di) is None
    assert b.memberships(di)[0]["periods"][-1]["end_reason"] == "user_deactivated"
    b.set_active(di, True)
    back = b.active(di)
    assert back is not None and back["id"] == first["id"]  # type: ignore[index]
    assert back["periods"][-1]["start_reason"] == "user_reactivated"


def test_deleting_user_or_group_keeps_history_inactive(client: TestClient, tenant: Tenant) -> None:
    b = board(client, tenant)
    ed, fay = b.user("ed"), b.user("fay")
    b.add(ed, fay)
    assert client.delete(f"{SCIM}/Users/{ed}", headers=tenant.scim).status_code == 204
    assert b.memberships(ed)[0]["periods"][-1]["end_reason"] == "user_deleted"
    before = client.get(f"{SCIM}/Users/{fay}", headers=tenant.scim).json()
    assert [g["value"] for g in before["groups"]] == [b.group_id]
    assert client.delete(f"{SCIM}/Groups/{b.group_id}", headers=tenant.scim).status_code == 204
    assert b.memberships(fay)[0]["periods"][-1]["end_reason"] == "group_deleted"
    after = client.get(f"{SCIM}/Users/{fay}", headers=tenant.scim).json()
    assert not after.get("groups")  # the group's members went with it
    room = client.get(f"{API}/rooms/{b.room_id}", headers=tenant.admin).json()
    assert room["group_id"] is None and room["name"] == "Audit Committee"


def test_admin_api_errors_are_json_never_500(client: TestClient, tenant: Tenant) -> None:
    assert (
        client.get(f"{API}/rooms", headers={"Authorization": "Bearer nope"}).json()["error"]["code"]
        == "unauthorized"
    )
    r = client.patch(
        f"{API}/organisation", headers=tenant.admin, json={"readd_policy": "sometimes"}
    )
    assert r.status_code == 400 and "error" in r.json()
    r = client.get(f"{API}/memberships/nope", headers=tenant.admin)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert client.get(f"{API}/openapi.json").status_code == 200


def test_a_hand_added_member_is_adopted_when_the_idp_adds_them_to_the_group(
    client: TestClient, tenant: Tenant
) -> None:
    manual = client.post(f"{API}/rooms", headers=tenant.admin, json={"name": "Strategy"}).json()
    b = board(client, tenant, "Strategy group")
    kim = b.user("kim")
    added = client.post(
        f"{API}/rooms/{manual['id']}/memberships", headers=tenant.admin, json={"user_id": kim}
    ).json()
    assert added["source"] == "manual"
    client.patch(f"{API}/rooms/{b.room_id}", headers=tenant.admin, json={"group_id": None})
    client.patch(f"{API}/rooms/{manual['id']}", headers=tenant.admin, json={"group_id": b.group_id})
    drift = client.get(f"{API}/drift", headers=tenant.admin).json()["not_in_group"]
    assert [d["membership_id"] for d in drift] == [added["id"]]
    b.room_id = manual["id"]
    b.add(kim)
    adopted = b.active(kim)
    assert adopted is not None and adopted["id"] == added["id"] and adopted["source"] == "scim"
    assert client.get(f"{API}/drift", headers=tenant.admin).json()["not_in_group"] == []
    b.remove(kim)  # from now on the IdP can remove them
    assert b.active(kim) is None


def test_adding_someone_by_hand_twice_is_refused_and_keeps_one_membership(
    client: TestClient, tenant: Tenant
) -> None:
    room = client.post(f"{API}/rooms", headers=tenant.admin, json={"name": "Remuneration"}).json()
    lee = board(client, tenant, "Other").user("lee")
    url = f"{API}/rooms/{room['id']}/memberships"
    first = client.post(url, headers=tenant.admin, json={"user_id": lee})
    again = client.post(url, headers=tenant.admin, json={"user_id": lee})
    assert first.status_code == 201 and again.status_code == 409
    assert "already has an active membership" in again.text
    mine = client.get(f"{API}/users/{lee}/memberships", headers=tenant.admin).json()["items"]
    assert [m["id"] for m in mine if m["room_id"] == room["id"]] == [first.json()["id"]]


def test_nul_characters_are_a_clear_400_on_every_database(
    client: TestClient, tenant: Tenant
) -> None:
    for path in ("/rooms/%00", "/memberships/%00", "/restores/%00", "/users/%00/memberships"):
        r = client.get(f"{API}{path}", headers=tenant.admin)
        assert r.status_code == 400, (path, r.text)
        assert r.json()["error"]["code"] == "invalid_input"
    r = client.post(f"{API}/rooms", headers=tenant.admin, json={"name": "a\u0000b"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_input"


def test_half_a_surrogate_pair_is_a_clear_400_and_creates_nothing(
    client: TestClient, tenant: Tenant
) -> None:
    """JSON lets ``\\ud800`` stand alone; neither database can store what it makes."""
    before = client.get(f"{API}/rooms", headers=tenant.admin).json()["items"]
    for name in ("\\ud800x", "x\\udfff", "\\ud83d"):
        raw = '{"name": "' + name + '"}'
        r = client.post(
            f"{API}/rooms",
            headers={**tenant.admin, "Content-Type": "application/json"},
            content=raw.encode(),
        )
        assert r.status_code == 400, (name, r.text)
        assert r.json()["error"]["code"] == "invalid_input"
        assert "surrogate" in r.json()["error"]["message"]
    emoji = client.post(f"{API}/rooms", headers=tenant.admin, json={"name": "Board \U0001f600"})
    assert emoji.status_code == 201, emoji.text
    after = client.get(f"{API}/rooms", headers=tenant.admin).json()["items"]
    assert len(after) == len(before) + 1


def test_the_console_answers_text_no_database_can_hold_with_a_400_page(
    client: TestClient, tenant: Tenant
) -> None:
    client.cookies.set("tenure_key", tenant.admin_key)
    try:
        for page in ("/rooms/%00", "/people/%00", "/memberships/%00", "/audit?resource_id=%00"):
            r = client.get(page)
            assert r.status_code == 400, (page, r.text[:200])
            assert "NUL" in r.text
        same_site = {"Origin": "http://testserver"}
        named = client.post("/rooms", data={"name": "a\x00b"}, headers=same_site)
        assert named.status_code == 400, named.text[:200]
        rooms = client.get(f"{API}/rooms", headers=tenant.admin).json()["items"]
        assert not [r for r in rooms if r["name"].startswith("a")]
        # The last day a date can name is the end of the audit log, not an error.
        assert client.get("/audit", params={"until": "9999-12-31"}).status_code == 200
    finally:
        client.cookies.clear()


def test_an_audit_cursor_that_is_not_an_entry_id_is_a_clear_400(
    client: TestClient, tenant: Tenant
) -> None:
    for cursor in ("99999999999999999999999", "\u00b2", "-1", "1.5"):
        r = client.get(f"{API}/audit", params={"cursor": cursor}, headers=tenant.admin)
        assert r.status_code == 400, (cursor, r.text)
        assert r.json()["error"]["message"] == "cursor is not valid"


def test_a_page_cursor_that_names_no_record_is_a_clear_400_and_real_ones_page(
    client: TestClient, tenant: Tenant
) -> None:
    """The lists keyed by record ids refuse what no page of theirs ever handed out, as the
    audit log does, instead of answering an empty page."""
    b = board(client, tenant)
    ada = b.user("ada")
    b.add(ada)
    for name in ("Audit", "Remuneration", "Nominations"):
        made = client.post(f"{API}/rooms", headers=tenant.admin, json={"name": name})
        assert made.status_code == 201, made.text
    lists = (
        "/rooms",
        f"/rooms/{b.room_id}/memberships",
        f"/users/{ada}/memberships",
        "/restores",
        "/restore-requests",
    )
    for path in lists:
        for cursor in ("zzz", "99999999999999999999999", b.room_id.upper(), "%"):
            r = client.get(f"{API}{path}", params={"cursor": cursor}, headers=tenant.admin)
            assert r.status_code == 400, (path, cursor, r.text)
            assert r.json()["error"]["message"] == "cursor is not valid"
    first = client.get(f"{API}/rooms", params={"limit": 2}, headers=tenant.admin).json()
    assert len(first["items"]) == 2 and first["next"] == first["items"][-1]["id"]
    rest = client.get(
        f"{API}/rooms", params={"limit": 2, "cursor": first["next"]}, headers=tenant.admin
    ).json()
    names = [r["name"] for r in first["items"] + rest["items"]]
    assert len(names) == len(set(names)) == 4 and "Audit" in names


def test_the_console_takes_a_typed_rooms_address_to_the_rooms_and_refuses_a_bad_cursor(
    client: TestClient, tenant: Tenant
) -> None:
    b = board(client, tenant)
    client.cookies.set("tenure_key", tenant.admin_key)
    try:
        listed = client.get("/rooms", follow_redirects=False)
        assert listed.status_code == 303 and listed.headers["location"] == "/#rooms-title"
        overview = client.get("/rooms")
        assert overview.status_code == 200 and "Audit Committee" in overview.text
        page = client.get(f"/rooms/{b.room_id}", params={"cursor": "zzz"})
        assert page.status_code == 400 and "cursor is not valid" in page.text
    finally:
        client.cookies.clear()


def test_the_console_names_every_room_where_it_lists_rooms_by_id(
    client: TestClient, tenant: Tenant
) -> None:
    """The restore form offers each room by name, and the restore requests name theirs."""
    b = board(client, tenant)
    b.user("ada@example.com")
    made = {}
    for name in ("Remuneration", "Nominations"):
        r = client.post(f"{API}/rooms", headers=tenant.admin, json={"name": name})
        assert r.status_code == 201, r.text
        made[r.json()["id"]] = name
    filed = client.post(
        f"{API}/restore-requests",
        headers=tenant.admin,
        json={"email": "ada@example.com", "room": "Nominations", "note": "please"},
    )
    client.cookies.set("tenure_key", tenant.admin_key)
    try:
        form = client.get("/restore")
        assert form.status_code == 200, form.text
        for room_id, name in made.items():
            assert f'<option value="{room_id}">{name}</option>' in form.text
        assert filed.status_code == 201, filed.text
        listed = client.get("/requests")
        assert listed.status_code == 200 and "<td>Nominations</td>" in listed.text
    finally:
        client.cookies.clear()


def test_health_check_answers_without_credentials(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_one_patch_that_removes_and_adds_the_same_person_keeps_one_true_timeline(
    client: TestClient, tenant: Tenant
) -> None:
    """Every write of one request goes to the database in as few statements as it can; two
    changes of the same membership must still land in order, not in one statement."""
    b = board(client, tenant)
    ann, bob = b.user("ann"), b.user("bob")
    b.add(ann)
    first = b.active(ann)
    assert first is not None
    ops = [
        {"op": "remove", "path": f'members[value eq "{ann}"]'},
        {"op": "add", "path": "members", "value": [{"value": ann}, {"value": bob}]},
        {"op": "remove", "path": f'members[value eq "{bob}"]'},
    ]
    changed = client.patch(f"{SCIM}/Groups/{b.group_id}", headers=tenant.scim, json=patch(*ops))
    assert changed.status_code in (200, 204), changed.text

    again = b.active(ann)
    assert again is not None and again["id"] == first["id"]
    periods = again["periods"]
    assert [p["start_reason"] for p in periods] == ["group_add", "reinstated"]
    assert periods[0]["end_reason"] == "group_removal" and periods[1]["ended_at"] is None
    assert b.active(bob) is None
    (bobs,) = b.memberships(bob)
    assert [(p["start_reason"], p["end_reason"]) for p in bobs["periods"]] == [
        ("group_add", "group_removal")
    ]
    group = client.get(f"{SCIM}/Groups/{b.group_id}", headers=tenant.scim).json()
    assert [m["value"] for m in group["members"]] == [ann]


def test_a_person_with_several_past_memberships_gets_the_latest_back_and_no_new_one(
    client: TestClient, tenant: Tenant
) -> None:
    """The re-add reads only the active and the latest ended membership, however many the
    person has had, and its audit entry counts them all."""
    b = board(client, tenant)
    b.settings(readd_policy="fresh")
    cy = b.user("cy")
    for _ in range(3):  # three memberships, each ended by the IdP
        b.add(cy)
        b.remove(cy)
    older = sorted(b.memberships(cy), key=lambda m: m["periods"][-1]["ended_at"])
    assert len(older) == 3 and all(m["status"] == "inactive" for m in older)
    b.settings(readd_policy="reinstate")

    b.add(cy)

    after = b.memberships(cy)
    assert len(after) == 3
    back = b.active(cy)
    assert back is not None and back["id"] == older[-1]["id"]
    assert [p["start_reason"] for p in back["periods"]] == ["group_add", "reinstated"]
    b.settings(readd_policy="fresh")
    b.remove(cy)
    b.add(cy)  # a fourth membership
    audit = client.get(
        f"{API}/audit", params={"action": "scim:membership:activate"}, headers=tenant.admin
    ).json()["items"]
    assert sorted(e["detail"]["previous"] for e in audit if e["detail"]["user_id"] == cy) == [
        0,
        1,
        2,
        3,
    ]
    assert len(b.memberships(cy)) == 4 and b.active(cy)["id"] not in {m["id"] for m in after}  # type: ignore[index]


def test_each_room_counts_its_own_active_members_on_every_page_and_alone(
    client: TestClient, tenant: Tenant
) -> None:
    finance, audit = board(client, tenant, "Finance"), board(client, tenant, "Audit")
    ann, bo, cy = (finance.user(n) for n in ("ann", "bo", "cy"))
    finance.add(ann, bo, cy)
    finance.remove(cy)  # inactive: not counted
    audit.add(ann)
    expected = {finance.room_id: 2, audit.room_id: 1}

    counted: dict[str, int] = {}
    cursor = None
    while True:  # one room a page: each page counts its own room
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/rooms", headers=tenant.admin, params=params).json()
        counted.update((r["id"], r["active_members"]) for r in page["items"])
        if (cursor := page["next"]) is None:
            break
    assert counted == expected
    for room_id, n in expected.items():
        room = client.get(f"{API}/rooms/{room_id}", headers=tenant.admin).json()
        assert room["active_members"] == n
