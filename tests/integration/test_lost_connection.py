"""PostgreSQL restarted under a running service: the next requests still answer.

SCIM's pooled connections are not pinged before use (a round trip per request); a connection
the server has dropped fails its first statement instead, and the use case, read or write, is
run again on a new connection, so IdPs never see those failures. The admin API and the console
ping theirs. PostgreSQL only: SQLite has no server to lose.
"""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from tenure.settings import Settings
from tenure.web.app import create_app
from tests.conftest import make_tenant
from tests.integration.pg_only import pg_client, pg_url
from tests.integration.scim_helpers import PATCH, group_body, user_body

SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

__all__ = ["pg_client", "pg_url"]  # fixtures


def _drop_connections(url: str) -> int:
    """What a PostgreSQL restart does to the service's pooled connections: each backend is
    gone (waited for, up to 5 s) before the next request, as after a restart. Without the wait a
    request could reach a backend still ending, whose statement may or may not then commit."""
    name = make_url(url).database
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
            " WHERE datname = %s",
            [name],
        ).fetchone()
    return int(row[0]) if row else 0


def test_requests_after_the_database_dropped_every_connection(
    pg_client: TestClient, pg_url: str
) -> None:
    client = pg_client
    first = make_tenant(pg_url, "Before")
    assert (
        client.post("/scim/v2/Users", json=user_body("ada"), headers=first.scim).status_code == 201
    )
    group = client.post("/scim/v2/Groups", json=group_body("Board"), headers=first.scim).json()
    assert _drop_connections(pg_url) >= 1

    # A tenant created now is not in the credential cache: its token is read on a dead
    # connection too.
    second = make_tenant(pg_url, "After")
    for tenant in (first, second):
        made = client.post("/scim/v2/Users", json=user_body("grace"), headers=tenant.scim)
        assert made.status_code == 201, made.text
    found = client.get("/scim/v2/Users", params={"filter": 'userName eq "ADA"'}, headers=first.scim)
    assert found.status_code == 200 and found.json()["totalResults"] == 1
    ada = found.json()["Resources"][0]["id"]

    _drop_connections(pg_url)
    added = client.patch(
        f"/scim/v2/Groups/{group['id']}",
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": ada}]}],
        },
        headers=first.scim,
    )
    assert added.status_code == 200, added.text
    assert [m["value"] for m in added.json()["members"]] == [ada]


def test_reads_after_the_database_dropped_every_connection(
    pg_client: TestClient, pg_url: str
) -> None:
    """A look-up is often the first request an IdP sends after a quiet spell: it must not be
    the one that finds the dead connection and fails."""
    tenant = make_tenant(pg_url)
    ada = pg_client.post("/scim/v2/Users", json=user_body("ada"), headers=tenant.scim).json()
    board = pg_client.post("/scim/v2/Groups", json=group_body("Board"), headers=tenant.scim)
    reads = [
        ("GET", "/scim/v2/Users", {"filter": 'userName eq "ada"'}),
        ("GET", f"/scim/v2/Users/{ada['id']}", None),
        ("GET", "/scim/v2/Groups", {"excludedAttributes": "members"}),
        ("GET", f"/scim/v2/Groups/{board.json()['id']}", None),
        ("POST", "/scim/v2/.search", None),
    ]
    for method, path, params in reads:
        assert _drop_connections(pg_url) >= 1
        body = {"schemas": [SEARCH], "filter": 'userName eq "ada"'} if method == "POST" else None
        answer = pg_client.request(method, path, params=params, json=body, headers=tenant.scim)
        assert answer.status_code == 200, f"{method} {path}: {answer.text}"


def test_the_admin_api_answers_after_the_database_dropped_every_connection(
    pg_client: TestClient, pg_url: str
) -> None:
    tenant = make_tenant(pg_url)
    for _ in range(3):
        _drop_connections(pg_url)
        rooms = pg_client.get("/api/v1/rooms", headers=tenant.admin)
        assert rooms.status_code == 200, rooms.text


def test_a_database_that_cannot_be_reached_answers_503_in_scim_terms() -> None:
    nowhere = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    with TestClient(create_app(nowhere), base_url="http://t") as client:
        answer = client.post(
            "/scim/v2/Users",
            json=user_body("ada"),
            headers={"Authorization": "Bearer tnr_anything"},
        )
        health = client.get("/healthz")
    assert (health.status_code, health.json()) == (503, {"status": "unavailable"})
    assert answer.status_code == 503
    body = answer.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == "503"
    assert "cannot be reached" in body["detail"]
