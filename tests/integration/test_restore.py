"""Restore, told over HTTP: removed and re-added by SCIM, made whole again, undone."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import Tenant
from tests.integration.story import API, SCIM, Board, board


def _support(tenant: Tenant, support_key: str) -> tuple[dict[str, str], dict[str, str]]:
    return {"Authorization": f"Bearer {support_key}"}, {"org": tenant.org_id}


def _readded_fresh(
    client: TestClient, tenant: Tenant
) -> tuple[Board, str, dict[str, Any], dict[str, Any]]:
    """A member with history, removed and re-added under ``fresh``: A is empty, B is full."""
    b = board(client, tenant)
    b.settings(readd_policy="fresh")
    gil = b.user("gil@example.com")
    b.add(gil)
    old = b.active(gil)
    assert old is not None
    client.patch(f"{API}/memberships/{old['id']}", headers=tenant.admin, json={"role": "assistant"})
    b.give_history(old["id"])
    b.remove(gil)
    b.add(gil)
    new = b.active(gil)
    assert new is not None and new["id"] != old["id"]
    return b, gil, old, new


def test_dry_run_shows_the_plan_and_changes_nothing(
    client: TestClient, tenant: Tenant, support_key: str
) -> None:
    b, gil, old, new = _readded_fresh(client, tenant)
    headers, org = _support(tenant, support_key)
    r = client.post(
        f"{API}/restores",
        params=org,
        headers=headers,
        json={"room_id": b.room_id, "email": "gil@example.com", "dry_run": True},
    )
    assert r.status_code == 200, r.text
    plan = r.json()["plan"]
    assert plan["deactivate"]["id"] == new["id"] and plan["reactivate"]["id"] == old["id"]
    assert plan["reactivate"]["history"] == {"meetings": 1, "notes": 1, "tasks": 1}
    assert plan["access_after"]["role"] == "assistant"
    assert b.active(gil)["id"] == new["id"]  # type: ignore[index]


def test_restore_brings_history_back_and_scim_keeps_working(
    client: TestClient, tenant: Tenant, support_key: str
) -> None:
    b, gil, old, new = _readded_fresh(client, tenant)
    b.give_history(new["id"])  # something happened on A meanwhile: it moves to B
    headers, org = _support(tenant, support_key)
    r = client.post(
        f"{API}/restores",
        params=org,
        headers=headers,
        json={"room_id": b.room_id, "user_id": gil, "reason": "ticket 4711"},
    )
    assert r.status_code == 200, r.text
    record = r.json()
    assert (
        record["status"] == "done"
        and record["reactivated"] == old["id"]
        and record["deactivated"] == new["id"]
    )
    assert record["moved"] == {"attendance": 1, "notes": 1, "tasks": 1}
    active = b.active(gil)
    assert active is not None and active["id"] == old["id"] and active["role"] == "assistant"
    assert active["history"] == {"meetings": 2, "notes": 2, "tasks": 2}
    assert active["periods"][-1]["start_reason"] == "restored"
    superseded = next(m for m in b.memberships(gil) if m["id"] == new["id"])
    assert superseded["periods"][-1]["end_reason"] == "superseded_by_restore"
    audit = client.get(
        f"{API}/audit", params={"action": "support:membership:restore"}, headers=tenant.admin
    ).json()["items"]
    assert audit and audit[0]["detail"]["reason"] == "ticket 4711"
    b.remove(gil)  # the IdP can still remove the restored membership
    assert b.active(gil) is None
    assert next(m for m in b.memberships(gil) if m["id"] == old["id"])["status"] == "inactive"


def test_a_readd_after_a_restore_brings_back_the_membership_that_ended_last(
    client: TestClient, tenant: Tenant, support_key: str
) -> None:
    """The restored membership is the older one; once the IdP removes it, it is the one
    that ended last, and a re-add under ``reinstate`` brings it back, not the newer one."""
    b, gil, old, new = _readded_fresh(client, tenant)
    headers, org = _support(tenant, support_key)
    restored = client.post(
        f"{API}/restores", params=org, headers=headers, json={"room_id": b.room_id, "user_id": gil}
    )
    assert restored.status_code in (200, 201), restored.text
    b.remove(gil)
    b.settings(readd_policy="reinstate")

    b.add(gil)

    back = b.active(gil)
    assert back is not None and back["id"] == old["id"]
    assert {m["id"] for m in b.memberships(gil)} == {old["id"], new["id"]}


def test_undo_reverses_exactly_and_refuses_once_things_changed(
    client: TestClient, tenant: Tenant, support_key: str
) -> None:
    b, gil, _old, new = _readded_fresh(client, tenant)
    headers, org = _support(tenant, support_key)
    first = client.post(
        f"{API}/restores", params=org, headers=headers, json={"room_id": b.room_id, "user_id": gil}
    ).json()
    undone = client.post(f"{API}/restores/{first['id']}/undo", params=org, headers=headers)
    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    assert b.active(gil)["id"] == new["id"]  # type: ignore[index]
    assert (
        client.post(f"{API}/restores/{first['id']}/undo", params=org, headers=headers).status_code
        == 409
    )
    second = client.post(
        f"{API}/restores", params=org, headers=headers, json={"room_id": b.room_id, "user_id": gil}
    ).json()
    b.remove(gil)  # a change after the restore: undo must refuse and say why
    refused = client.post(f"{API}/restores/{second['id']}/undo", params=org, headers=headers)
    assert refused.status_code == 409 and "changed" in refused.json()["error"]["message"]


def test_restore_is_refused_until_the_person_is_back_in_the_group(
    client: TestClient, tenant: Tenant, support_key: str
) -> None:
    b, gil, _old, _new = _readded_fresh(client, tenant)
    b.remove(gil)
    headers, org = _support(tenant, support_key)
    r = client.post(
        f"{API}/restores", params=org, headers=headers, json={"room_id": b.room_id, "user_id": gil}
    )
    assert r.status_code == 409
    assert "Audit Committee" in r.json()["error"]["message"]


def test_recreated_identity_gets_its_old_membership_relinked(
    client: TestClient, tenant: Tenant, support_key: str
) -> None:
    b = board(client, tenant)
    hal = b.user("hal@example.com", externalId="emp-77")
    b.add(hal)
    old = b.active(hal)
    b.give_history(old["id"])  # type: ignore[index]
    client.delete(f"{SCIM}/Users/{hal}", headers=tenant.scim)  # hard delete in the IdP
    hal2 = b.user("hal@example.com", externalId="emp-77")  # re-hired: a new record
    b.add(hal2)
    found = client.get(
        f"{API}/users", params={"email": "hal@example.com"}, headers=tenant.admin
    ).json()["items"]
    assert {u["id"] for u in found} == {hal, hal2}
    cands = client.get(
        f"{API}/restore-candidates",
        params={"email": "hal@example.com", "room": b.room_id},
        headers=tenant.admin,
    ).json()["items"]
    assert cands[0]["membership"]["id"] == old["id"]  # type: ignore[index]
    headers, org = _support(tenant, support_key)
    r = client.post(
        f"{API}/restores",
        params=org,
        headers=headers,
        json={"room_id": b.room_id, "email": "hal@example.com"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["relinked_from_user_id"] == hal
    active = b.active(hal2)
    assert active is not None and active["id"] == old["id"]  # type: ignore[index]
    assert active["history"]["notes"] == 1


def test_org_admin_files_a_request_and_support_approves_it(
    client: TestClient, tenant: Tenant, support_key: str
) -> None:
    b, gil, old, _new = _readded_fresh(client, tenant)
    direct = client.post(
        f"{API}/restores", headers=tenant.admin, json={"room_id": b.room_id, "user_id": gil}
    )
    assert direct.status_code == 403
    filed = client.post(
        f"{API}/restore-requests",
        headers=tenant.admin,
        json={"email": "gil@example.com", "room": "Audit Committee", "note": "lost her notes"},
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["candidates"][0]["membership"]["id"] == old["id"]
    headers, org = _support(tenant, support_key)
    pending = client.get(
        f"{API}/restore-requests", params={**org, "status": "pending"}, headers=headers
    )
    assert [r["id"] for r in pending.json()["items"]] == [filed.json()["id"]]
    approved = client.post(
        f"{API}/restore-requests/{filed.json()['id']}/approve", params=org, headers=headers
    )
    assert approved.status_code == 200, approved.text
    outcome = client.get(
        f"{API}/restore-requests/{filed.json()['id']}", headers=tenant.admin
    ).json()
    assert outcome["status"] == "approved" and outcome["restore_id"]
    assert b.active(gil)["id"] == old["id"]  # type: ignore[index]


def test_self_service_lets_org_admins_restore_directly(client: TestClient, tenant: Tenant) -> None:
    b, gil, old, _new = _readded_fresh(client, tenant)
    b.settings(self_service_restore=True)
    r = client.post(
        f"{API}/restores", headers=tenant.admin, json={"room_id": b.room_id, "user_id": gil}
    )
    assert r.status_code == 200, r.text
    assert b.active(gil)["id"] == old["id"]  # type: ignore[index]


@pytest.mark.parametrize("okta", [False, True])
def test_mass_removal_shows_in_drift_and_is_undone_in_one_step(
    client: TestClient, tenant: Tenant, support_key: str, okta: bool
) -> None:
    b = board(client, tenant)
    b.settings(readd_policy="fresh")
    people = [b.user(f"p{i}") for i in range(8)]
    b.add(*people)
    before = {p: b.active(p)["id"] for p in people}  # type: ignore[index]
    b.remove(*people[:6], okta=okta)  # a scope change removes 6 of 8
    report = client.get(f"{API}/drift", headers=tenant.admin).json()
    batch = next(x for x in report["mass_removals"] if x["room_id"] == b.room_id)
    assert batch["removed"] == 6 and batch["room_size_before"] == 8
    b.add(*people[:6])  # the admin fixes the scope; fresh memberships appear
    headers, org = _support(tenant, support_key)
    remedy = batch["remedies"][0]
    r = client.post(f"{API}/restores/batch", params=org, headers=headers, json=remedy["body"])
    assert r.status_code == 200, r.text
    assert len(r.json()["restored"]) == 6 and r.json()["skipped"] == []
    assert all(b.active(p)["id"] == before[p] for p in people)  # type: ignore[index]


def test_drift_lists_people_scim_does_not_manage(
    client: TestClient, tenant: Tenant, support_key: str
) -> None:
    manual = client.post(f"{API}/rooms", headers=tenant.admin, json={"name": "Ad hoc"}).json()
    b = board(client, tenant)
    ivy = b.user("ivy")
    client.post(
        f"{API}/rooms/{manual['id']}/memberships", headers=tenant.admin, json={"user_id": ivy}
    )
    taken = client.patch(
        f"{API}/rooms/{manual['id']}", headers=tenant.admin, json={"group_id": b.group_id}
    )
    assert taken.status_code == 409  # a group manages one room at a time
    client.patch(f"{API}/rooms/{b.room_id}", headers=tenant.admin, json={"group_id": None})
    linked = client.patch(
        f"{API}/rooms/{manual['id']}", headers=tenant.admin, json={"group_id": b.group_id}
    )
    assert linked.status_code == 200, linked.text
    report = client.get(f"{API}/drift", headers=tenant.admin).json()
    assert [x["user_id"] for x in report["not_in_group"]] == [ivy]
    remedy = report["not_in_group"][0]["remedies"][0]
    assert client.post(remedy["path"], headers=tenant.admin).status_code == 200
    assert client.get(f"{API}/drift", headers=tenant.admin).json()["not_in_group"] == []


def test_a_persons_timeline_covers_every_identity_they_had(
    client: TestClient, tenant: Tenant
) -> None:
    b = board(client, tenant)
    old = b.user("lee@example.com", externalId="emp-9")
    b.add(old)
    client.delete(f"{SCIM}/Users/{old}", headers=tenant.scim)
    new = b.user("lee@example.com", externalId="emp-9")
    b.add(new)
    seen = client.get(f"{API}/users/{new}/timeline", headers=tenant.admin).json()
    assert {i["id"] for i in seen["identities"]} == {old, new}
    assert sorted(m["user_id"] for m in seen["memberships"]) == sorted([old, new])
    assert [i["deleted"] for i in seen["identities"]] == [False, True]


def _walk(client: TestClient, path: str, headers: dict[str, str], **params: str) -> list[Any]:
    """Every item of an admin list, read one per page by following ``next``."""
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(200):
        page = {**params, "limit": "1", **({"cursor": cursor} if cursor else {})}
        r = client.get(f"{API}{path}", params=page, headers=headers)
        assert r.status_code == 200, (path, r.text)
        items += r.json()["items"]
        cursor = r.json()["next"]
        if cursor is None:
            return items
    raise AssertionError(f"{path} never ended")


def test_every_list_pages_through_all_its_records_one_at_a_time(
    client: TestClient, tenant: Tenant, support_key: str
) -> None:
    """Restores, restore requests, a room's and a person's memberships, and the audit log:
    following ``next`` page by page hands out each record once, as one long page does."""
    b, gil, _old, _new = _readded_fresh(client, tenant)
    headers, org = _support(tenant, support_key)
    restore = {"room_id": b.room_id, "user_id": gil}
    first = client.post(f"{API}/restores", params=org, headers=headers, json=restore).json()
    client.post(f"{API}/restores/{first['id']}/undo", params=org, headers=headers)
    client.post(f"{API}/restores", params=org, headers=headers, json=restore)
    ask = {"email": "gil@example.com", "room": "Audit Committee", "note": "lost her notes"}
    filed = client.post(f"{API}/restore-requests", headers=tenant.admin, json=ask).json()
    client.post(
        f"{API}/restore-requests/{filed['id']}/reject",
        params=org,
        headers=headers,
        json={"reason": "already restored"},
    )
    assert client.post(f"{API}/restore-requests", headers=tenant.admin, json=ask).status_code == 201
    b.add(b.user("ada@example.com"))
    lists = (
        ("/restores", headers, org),
        ("/restore-requests", headers, org),
        (f"/rooms/{b.room_id}/memberships", tenant.admin, {}),
        (f"/users/{gil}/memberships", tenant.admin, {}),
        ("/audit", tenant.admin, {}),
    )
    for path, who, params in lists:
        whole = client.get(f"{API}{path}", params={**params, "limit": "500"}, headers=who).json()
        assert whole["next"] is None and len(whole["items"]) >= 2, (path, whole)
        walked = _walk(client, path, who, **params)
        assert [i["id"] for i in walked] == [i["id"] for i in whole["items"]], path
