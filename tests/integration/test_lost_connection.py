"""PostgreSQL restarted under a running service: the next requests still answer.

Pooled connections are not pinged before use (a round trip per request); a connection the
server has dropped fails its first statement instead. The use case is then run again on a new
connection, so IdPs never see those failures. PostgreSQL only: SQLite has no server to lose.
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

__all__ = ["pg_client", "pg_url"]  # fixtures


def _drop_connections(url: str) -> int:
    """What a PostgreSQL restart does to the service's pooled connections."""
    name = make_url(url).database
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
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
