"""A SCIM-driven board room story, shared by the membership and restore tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import Tenant
from tests.integration.scim_helpers import group_body, patch, user_body

SCIM = "/scim/v2"
API = "/api/v1"


@dataclass
class Board:
    client: TestClient
    tenant: Tenant
    group_id: str
    room_id: str

    def user(self, name: str, **extra: Any) -> str:
        r = self.client.post(
            f"{SCIM}/Users", json=user_body(name, **extra), headers=self.tenant.scim
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def add(self, *user_ids: str, okta: bool = False) -> None:
        op = {"op": "add", "path": "members", "value": [{"value": u} for u in user_ids]}
        r = self.client.patch(
            f"{SCIM}/Groups/{self.group_id}", json=patch(op), headers=self.tenant.scim
        )
        assert r.status_code in (200, 204), r.text

    def remove(self, *user_ids: str, okta: bool = False) -> None:
        if okta:
            ops = [{"op": "remove", "path": f'members[value eq "{u}"]'} for u in user_ids]
        else:
            ops = [{"op": "Remove", "path": "members", "value": [{"value": u} for u in user_ids]}]
        r = self.client.patch(
            f"{SCIM}/Groups/{self.group_id}", json=patch(*ops), headers=self.tenant.scim
        )
        assert r.status_code in (200, 204), r.text

    def set_active(self, user_id: str, active: bool) -> None:
        r = self.client.patch(
            f"{SCIM}/Users/{user_id}",
            headers=self.tenant.scim,
            json=patch({"op": "replace", "value": {"active": active}}),
        )
        assert r.status_code == 200, r.text

    def memberships(self, user_id: str) -> list[dict[str, Any]]:
        r = self.client.get(f"{API}/users/{user_id}/memberships", headers=self.tenant.admin)
        assert r.status_code == 200, r.text
        return [m for m in r.json()["items"] if m["room_id"] == self.room_id]

    def active(self, user_id: str) -> dict[str, Any] | None:
        found = [m for m in self.memberships(user_id) if m["status"] == "active"]
        assert len(found) <= 1
        return found[0] if found else None

    def settings(self, **values: Any) -> None:
        r = self.client.patch(f"{API}/organisation", json=values, headers=self.tenant.admin)
        assert r.status_code == 200, r.text

    def give_history(self, membership_id: str) -> None:
        """One meeting attended with a private note, and one task."""
        meeting = self.client.post(
            f"{API}/rooms/{self.room_id}/meetings",
            headers=self.tenant.admin,
            json={"title": "Q3 board", "starts_at": "2026-09-01T09:00:00Z"},
        ).json()
        assert (
            self.client.post(
                f"{API}/meetings/{meeting['id']}/attendance",
                headers=self.tenant.admin,
                json={"membership_id": membership_id},
            ).status_code
            == 201
        )
        assert (
            self.client.post(
                f"{API}/meetings/{meeting['id']}/notes",
                headers=self.tenant.admin,
                json={"membership_id": membership_id, "text": "ask about audit"},
            ).status_code
            == 201
        )
        assert (
            self.client.post(
                f"{API}/rooms/{self.room_id}/tasks",
                headers=self.tenant.admin,
                json={"title": "Review minutes", "assignee_membership_id": membership_id},
            ).status_code
            == 201
        )


def board(client: TestClient, tenant: Tenant, name: str = "Audit Committee") -> Board:
    r = client.post(f"{SCIM}/Groups", json=group_body(name), headers=tenant.scim)
    assert r.status_code == 201, r.text
    rooms = client.get(f"{API}/rooms", headers=tenant.admin).json()["items"]
    room = next(x for x in rooms if x["group_id"] == r.json()["id"])
    return Board(client, tenant, r.json()["id"], room["id"])
