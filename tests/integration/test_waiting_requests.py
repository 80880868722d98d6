"""A SCIM request that waits on the database never holds up the others.

On PostgreSQL, SCIM use cases run on the event loop and hand it back at every wait for the
database: a PATCH stuck behind a lock that another client holds must not stall a look-up sent
meanwhile. (PostgreSQL only: SQLite locks the whole file, and its use cases run on threads.)
"""

from __future__ import annotations

import threading
import time

import psycopg
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from tests.conftest import make_tenant
from tests.integration.pg_only import pg_client, pg_url
from tests.integration.scim_helpers import group_body, patch, user_body

__all__ = ["pg_client", "pg_url"]  # fixtures


def test_a_request_waiting_on_a_lock_does_not_hold_up_a_look_up(
    pg_client: TestClient, pg_url: str
) -> None:
    client, tenant = pg_client, make_tenant(pg_url)
    ada = client.post("/scim/v2/Users", json=user_body("ada.waits"), headers=tenant.scim).json()
    group = client.post("/scim/v2/Groups", json=group_body("Waiting"), headers=tenant.scim).json()
    dsn = make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    add = patch({"op": "add", "path": "members", "value": [{"value": ada["id"]}]})
    answered: list[int] = []

    with psycopg.connect(dsn) as blocker:
        blocker.execute("SELECT 1 FROM groups WHERE id = %s FOR UPDATE", [group["id"]])
        # Should the look-up be stuck behind the PATCH, the lock goes after 5 s all the same.
        release = threading.Timer(5.0, blocker.rollback)
        release.start()
        change = threading.Thread(
            target=lambda: answered.append(
                client.patch(
                    f"/scim/v2/Groups/{group['id']}", json=add, headers=tenant.scim
                ).status_code
            )
        )
        change.start()
        time.sleep(0.3)  # the PATCH is now waiting for the group's lock
        started = time.monotonic()
        found = client.get(
            "/scim/v2/Users", params={"filter": 'userName eq "ada.waits"'}, headers=tenant.scim
        )
        waited = time.monotonic() - started
        assert not answered, "the PATCH should still be waiting for the lock"
        release.cancel()
        blocker.rollback()
    change.join(timeout=10)

    assert found.status_code == 200 and found.json()["totalResults"] == 1
    assert waited < 2.0, f"the look-up waited {waited:.1f} s behind a blocked request"
    assert answered == [200] or answered == [204]
