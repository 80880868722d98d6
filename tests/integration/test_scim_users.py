"""Users over SCIM, on SQLite and PostgreSQL."""

from __future__ import annotations

from starlette.testclient import TestClient

from tenure.settings import Settings
from tenure.web.app import create_app
from tests.conftest import Tenant, make_tenant
from tests.integration.scim_helpers import patch, user_body

BASE = "/scim/v2"


def test_created_user_is_found_by_username_case_insensitively(
    client: TestClient, tenant: Tenant
) -> None:
    created = client.post(
        f"{BASE}/Users",
        json=user_body("Ann.Lee@example.com", externalId="e-1"),
        headers=tenant.scim,
    )
    assert created.status_code == 201
    assert created.headers["content-type"].startswith("application/scim+json")
    assert created.headers["location"].endswith(created.json()["id"])
    found = client.get(
        f'{BASE}/Users?filter=userName eq "ann.lee@EXAMPLE.com"', headers=tenant.scim
    ).json()
    assert found["totalResults"] == 1
    assert found["Resources"][0]["userName"] == "Ann.Lee@example.com"


def test_password_is_accepted_but_never_returned(client: TestClient, tenant: Tenant) -> None:
    created = client.post(
        f"{BASE}/Users", json=user_body("pw", password="S3cret!"), headers=tenant.scim
    )
    assert created.status_code == 201
    assert "password" not in created.json()
    assert (
        "password"
        not in client.get(f"{BASE}/Users/{created.json()['id']}", headers=tenant.scim).json()
    )


def test_duplicate_username_is_409_uniqueness(client: TestClient, tenant: Tenant) -> None:
    client.post(f"{BASE}/Users", json=user_body("dup"), headers=tenant.scim)
    again = client.post(f"{BASE}/Users", json=user_body("DUP"), headers=tenant.scim)
    assert again.status_code == 409
    assert again.json()["scimType"] == "uniqueness"
    assert again.json()["status"] == "409"


def test_deleted_user_is_gone_for_the_idp_and_frees_its_username(
    client: TestClient, tenant: Tenant
) -> None:
    uid = client.post(
        f"{BASE}/Users", json=user_body("gone", externalId="x9"), headers=tenant.scim
    ).json()["id"]
    assert client.delete(f"{BASE}/Users/{uid}", headers=tenant.scim).status_code == 204
    assert client.get(f"{BASE}/Users/{uid}", headers=tenant.scim).status_code == 404
    again = client.post(
        f"{BASE}/Users", json=user_body("gone", externalId="x9"), headers=tenant.scim
    )
    assert again.status_code == 201
    assert again.json()["id"] != uid


def test_entra_deactivation_with_string_false_keeps_user_visible(
    client: TestClient, tenant: Tenant
) -> None:
    uid = client.post(f"{BASE}/Users", json=user_body("off"), headers=tenant.scim).json()["id"]
    changed = client.patch(
        f"{BASE}/Users/{uid}",
        headers=tenant.scim,
        json=patch({"op": "Replace", "path": "active", "value": "False"}),
    )
    assert changed.status_code == 200
    assert changed.json()["active"] is False
    listed = client.get(f'{BASE}/Users?filter=userName eq "off"', headers=tenant.scim).json()
    assert listed["Resources"][0]["active"] is False


def test_one_organisations_token_cannot_see_anothers_users(
    client: TestClient, tenant: Tenant, database_url: str
) -> None:
    from tests.conftest import make_tenant

    other = make_tenant(database_url, "Other Board")
    uid = client.post(f"{BASE}/Users", json=user_body("private"), headers=tenant.scim).json()["id"]
    assert client.get(f"{BASE}/Users/{uid}", headers=other.scim).status_code == 404
    assert (
        client.get(f'{BASE}/Users?filter=userName eq "private"', headers=other.scim).json()[
            "totalResults"
        ]
        == 0
    )
    assert (
        client.patch(
            f"{BASE}/Users/{uid}",
            headers=other.scim,
            json=patch({"op": "replace", "path": "active", "value": False}),
        ).status_code
        == 404
    )
    assert client.get(f"{BASE}/Users/{uid}", headers=tenant.scim).json()["active"] is True


def test_unknown_filter_attribute_is_rejected_not_ignored(
    client: TestClient, tenant: Tenant
) -> None:
    client.post(f"{BASE}/Users", json=user_body("someone"), headers=tenant.scim)
    response = client.get(f'{BASE}/Users?filter=favouriteColour eq "blue"', headers=tenant.scim)
    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidFilter"


def test_bad_token_is_401_with_scim_error(client: TestClient, tenant: Tenant) -> None:
    response = client.get(f"{BASE}/Users", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["status"] == "401"


def test_idp_lookups_answer_exactly_as_the_general_filter_does(
    client: TestClient, tenant: Tenant, database_url: str
) -> None:
    """``attr eq "…"`` without sortBy runs from a statement built once per attribute; with
    sortBy it goes through the general compiler. Both must find the same users."""
    other = make_tenant(database_url, "Other Board")
    for name, ext, display in (
        ("Kim.Ode@example.com", "EXT-1", "Kim Ode"),
        ("kim.ode.2@example.com", "ext-1", None),
        ("Lou@example.com", "EXT-2", "Kim Ode"),
    ):
        extra = {"externalId": ext} | ({"displayName": display} if display else {})
        assert client.post(
            f"{BASE}/Users", json=user_body(name, **extra), headers=tenant.scim
        ).is_success
    # The same userName in another organisation is never found from this one.
    assert client.post(
        f"{BASE}/Users", json=user_body("Kim.Ode@example.com"), headers=other.scim
    ).is_success

    def found(query: str) -> tuple[int, set[str]]:
        body = client.get(f"{BASE}/Users?{query}", headers=tenant.scim).json()
        return body["totalResults"], {r["userName"] for r in body["Resources"]}

    cases = {
        'userName eq "KIM.ODE@example.com"': {"Kim.Ode@example.com"},
        'externalId eq "EXT-1"': {"Kim.Ode@example.com"},  # caseExact
        'displayName eq "kim ode"': {"Kim.Ode@example.com", "Lou@example.com"},
        'displayName eq ""': set(),
        'userName eq "nobody@example.com"': set(),
    }
    for flt, expected in cases.items():
        fast = found(f"filter={flt}")
        general = found(f"filter={flt}&sortBy=userName")
        assert fast == general == (len(expected), expected), flt
    # Past the last page: no rows, and still the exact total.
    assert found('filter=displayName eq "Kim Ode"&startIndex=5') == (2, set())


def test_locations_follow_the_host_each_request_came_by(client: TestClient, tenant: Tenant) -> None:
    """Behind a proxy, or reached by two names, every answer names the host it was asked on."""
    made = client.post(
        "/scim/v2/Users",
        json=user_body("hosts"),
        headers={**tenant.scim, "Host": "scim.northwind.example"},
    )
    assert made.headers["Location"].startswith("http://scim.northwind.example/scim/v2/Users/")
    for host in ("tenure.internal:8000", "scim.northwind.example"):
        read = client.get(
            made.headers["Location"].split("example", 1)[1], headers={**tenant.scim, "Host": host}
        )
        assert read.json()["meta"]["location"] == f"http://{host}/scim/v2/Users/{made.json()['id']}"


def test_scim_is_served_under_the_root_path_a_proxy_mounts_it_at(
    settings: Settings, tenant: Tenant
) -> None:
    """Behind a proxy that serves the app under a prefix (ASGI ``root_path``), SCIM answers
    there, and the locations it returns carry the prefix."""
    with TestClient(create_app(settings), base_url="http://portal", root_path="/tenure") as web:
        created = web.post(
            f"/tenure{BASE}/Users", json=user_body("rooted@example.com"), headers=tenant.scim
        )
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        assert location == f"http://portal/tenure{BASE}/Users/{created.json()['id']}"
        found = web.get(
            f'/tenure{BASE}/Users?filter=userName eq "rooted@example.com"', headers=tenant.scim
        )
        assert found.json()["totalResults"] == 1
        assert web.get(f"/tenure{BASE}/Users/nope", headers=tenant.scim).status_code == 404
        assert web.get(f"{BASE}/Users", headers=tenant.scim).status_code == 404  # not the prefix
