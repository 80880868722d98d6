"""SCIM keeps its connections between requests (``adapters/db/kept.py``): more requests at once
than connections still all answer, and kept connections a lost server killed are not reused.
PostgreSQL only: SQLite runs SCIM on threads, without kept connections."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from starlette.testclient import TestClient

from tenure.settings import Settings
from tenure.web.app import create_app
from tests.conftest import Tenant, make_tenant
from tests.integration.pg_only import pg_url
from tests.integration.scim_helpers import user_body
from tests.integration.test_lost_connection import _drop_connections

__all__ = ["pg_url"]  # fixtures


def _at_once(client: TestClient, tenant: Tenant, names: list[str]) -> list[httpx.Response]:
    """Creates, then look-ups, sent together from as many threads (the client's one event
    loop serves them concurrently)."""

    def create_then_find(name: str) -> httpx.Response:
        made = client.post("/scim/v2/Users", json=user_body(name), headers=tenant.scim)
        if made.status_code != 201:
            return made
        return client.get(
            "/scim/v2/Users", params={"filter": f'userName eq "{name}"'}, headers=tenant.scim
        )

    with ThreadPoolExecutor(len(names)) as threads:
        return list(threads.map(create_then_find, names))


def test_more_requests_at_once_than_connections_all_answer(pg_url: str) -> None:
    tenant = make_tenant(pg_url)
    app = create_app(Settings(database_url=pg_url, db_pool_size=2))
    with TestClient(app, base_url="http://t") as client:
        answers = _at_once(client, tenant, [f"crowd{i}" for i in range(12)])
    assert [a.status_code for a in answers] == [200] * 12
    assert all(a.json()["totalResults"] == 1 for a in answers)


def test_kept_connections_a_lost_server_killed_are_not_reused(pg_url: str) -> None:
    tenant = make_tenant(pg_url)
    with TestClient(create_app(Settings(database_url=pg_url)), base_url="http://t") as client:
        _at_once(client, tenant, [f"before{i}" for i in range(8)])  # several connections kept
        assert _drop_connections(pg_url) >= 2
        after = _at_once(client, tenant, ["after"])[0]
        assert after.status_code == 200, after.text
        again = _at_once(client, tenant, [f"again{i}" for i in range(8)])
    assert [a.status_code for a in again] == [200] * 8
