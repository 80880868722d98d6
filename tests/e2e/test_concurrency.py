"""Several server processes on one PostgreSQL database, racing on the same people.

Whatever the interleaving, the end state must equal a serial run's, and no person may ever
hold two active memberships in one room (a database constraint guarantees it; these tests
show the service turns lost races into the serial outcome, not into errors).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import database_for
from tests.e2e.processes import TENURE, cli, free_port, serve, wait_until_serving

PROCESSES = 3
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Three ``tenure serve`` processes sharing one PostgreSQL database."""
    url = database_for("postgresql", tmp_path_factory.mktemp("race"), "race")
    env = {**os.environ, "TENURE_DATABASE_URL": url}
    subprocess.run([TENURE, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    org = cli(url, "org", "create", "Race Board")
    token = cli(url, "token", "create", org["id"])["token"]
    support = cli(url, "apikey", "create", "--role", "support")["key"]
    servers, urls, logs = [], [], []
    for _ in range(PROCESSES):
        port = free_port()
        logs.append(tmp_path_factory.mktemp("log") / "server.log")
        servers.append(serve(env, port, logs[-1]))
        urls.append(f"http://127.0.0.1:{port}")
    for process, root, log in zip(servers, urls, logs, strict=True):
        wait_until_serving(process, f"{root}/scim/v2", token, log)
    try:
        yield {"urls": urls, "token": token, "support": support, "org": org["id"], "db": url}
    finally:
        for proc in servers:
            proc.terminate()
        for proc in servers:
            proc.wait(timeout=30)


def _scim(cluster: dict[str, Any], i: int) -> httpx.Client:
    """A client for the i-th process; the caller closes it (``with``)."""
    return httpx.Client(
        base_url=cluster["urls"][i % PROCESSES] + "/scim/v2",
        timeout=60,
        headers={"Authorization": f"Bearer {cluster['token']}"},
    )


def _patch(cluster: dict[str, Any], i: int, group: str, body: dict[str, Any]) -> httpx.Response:
    with _scim(cluster, i) as client:
        return client.patch(f"/Groups/{group}", json=body)


def _race(jobs: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(lambda job: job(), jobs))


def _rows(cluster: dict[str, Any], room_group: str) -> list[tuple[str, str, str]]:
    dsn = cluster["db"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT m.user_id, m.id, m.status FROM memberships m JOIN rooms r ON r.id = m.room_id "
            "WHERE r.group_id = %s ORDER BY m.user_id, m.created_at",
            (room_group,),
        ).fetchall()


def _setup(cluster: dict[str, Any], name: str, people: int) -> tuple[str, list[str]]:
    with _scim(cluster, 0) as c:
        ids = [
            c.post(
                "/Users",
                json={
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": f"{name}-{i}@example.com",
                },
            ).json()["id"]
            for i in range(people)
        ]
        group = c.post(
            "/Groups",
            json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name},
        ).json()["id"]
    return group, ids


def _members_op(kind: str, ids: list[str]) -> dict[str, Any]:
    if kind == "add":
        return {
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": u} for u in ids]}],
        }
    return {
        "schemas": [PATCH],
        "Operations": [{"op": "Remove", "path": "members", "value": [{"value": u} for u in ids]}],
    }


def test_racing_adds_removes_and_readds_end_as_a_serial_run_would(cluster: dict[str, Any]) -> None:
    group, ids = _setup(cluster, "reinstate-race", 12)

    def burst(kind: str) -> None:
        # Every process gets the same people, in a different order, several times over.
        jobs = []
        for i in range(PROCESSES * 3):
            order = ids[i % len(ids) :] + ids[: i % len(ids)]
            jobs.append(lambda i=i, o=order: _patch(cluster, i, group, _members_op(kind, o)))
        answers = _race(jobs)
        assert all(r.status_code in (200, 204) for r in answers), [
            r.text for r in answers if r.status_code >= 300
        ]

    burst("add")
    rows = _rows(cluster, group)
    assert sorted(r[0] for r in rows) == sorted(ids)  # exactly one membership each
    assert all(r[2] == "active" for r in rows)
    first = {r[0]: r[1] for r in rows}
    burst("remove")
    assert all(r[2] == "inactive" for r in _rows(cluster, group))
    burst("add")
    rows = _rows(cluster, group)
    assert {r[0]: r[1] for r in rows} == first  # reinstated: the same memberships, none created
    assert all(r[2] == "active" for r in rows)


def test_racing_readds_under_fresh_create_exactly_one_new_membership(
    cluster: dict[str, Any],
) -> None:
    group, ids = _setup(cluster, "fresh-race", 8)
    room = next(
        r
        for r in httpx.get(
            f"{cluster['urls'][0]}/api/v1/rooms",
            params={"org": cluster["org"]},
            headers={"Authorization": f"Bearer {cluster['support']}"},
        ).json()["items"]
        if r["group_id"] == group
    )
    httpx.patch(
        f"{cluster['urls'][0]}/api/v1/rooms/{room['id']}",
        params={"org": cluster["org"]},
        json={"readd_policy": "fresh"},
        headers={"Authorization": f"Bearer {cluster['support']}"},
    )
    with _scim(cluster, 0) as c:
        c.patch(f"/Groups/{group}", json=_members_op("add", ids))
        c.patch(f"/Groups/{group}", json=_members_op("remove", ids))
    _race(
        [
            lambda i=i: _patch(cluster, i, group, _members_op("add", ids))
            for i in range(PROCESSES * 2)
        ]
    )
    rows = _rows(cluster, group)
    for person in ids:
        mine = [r for r in rows if r[0] == person]
        assert [r[2] for r in mine] == ["inactive", "active"]  # the old one kept, one new one


def test_racing_restores_of_the_same_person_let_exactly_one_win(cluster: dict[str, Any]) -> None:
    group, ids = _setup(cluster, "restore-race", 1)
    api = cluster["urls"][0] + "/api/v1"
    support = {"Authorization": f"Bearer {cluster['support']}"}
    org = {"org": cluster["org"]}
    room = next(
        r
        for r in httpx.get(f"{api}/rooms", params=org, headers=support).json()["items"]
        if r["group_id"] == group
    )
    httpx.patch(
        f"{api}/rooms/{room['id']}", params=org, json={"readd_policy": "fresh"}, headers=support
    )
    with _scim(cluster, 0) as c:
        c.patch(f"/Groups/{group}", json=_members_op("add", ids))
        old = _rows(cluster, group)[0][1]
        meeting = httpx.post(
            f"{api}/rooms/{room['id']}/meetings",
            params=org,
            headers=support,
            json={"title": "AGM", "starts_at": "2026-10-01T10:00:00Z"},
        ).json()
        httpx.post(
            f"{api}/meetings/{meeting['id']}/attendance",
            params=org,
            headers=support,
            json={"membership_id": old},
        )
        c.patch(f"/Groups/{group}", json=_members_op("remove", ids))
        c.patch(f"/Groups/{group}", json=_members_op("add", ids))
    answers = _race(
        [
            lambda i=i: httpx.post(
                f"{cluster['urls'][i % PROCESSES]}/api/v1/restores",
                params=org,
                headers=support,
                json={"room_id": room["id"], "user_id": ids[0]},
                timeout=60,
            )
            for i in range(4)
        ]
    )
    codes = sorted(r.status_code for r in answers)
    assert codes.count(200) == 1 and set(codes) <= {200, 409}, [r.text for r in answers]
    active = [r for r in _rows(cluster, group) if r[2] == "active"]
    assert [r[1] for r in active] == [old]


def test_racing_changes_to_one_user_are_all_kept(cluster: dict[str, Any]) -> None:
    """Each PATCH reads the user and writes it back whole: without the row lock, two racing
    ones would both start from the same version and one change would be lost."""
    _group, [user] = _setup(cluster, "one-user", 1)
    racers = 12

    def add_email(i: int) -> httpx.Response:
        body = {
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "emails", "value": [{"value": f"e{i}@x.test"}]}],
        }
        with _scim(cluster, i) as client:
            return client.patch(f"/Users/{user}", json=body)

    answers = _race([lambda i=i: add_email(i) for i in range(racers)])
    assert [r.status_code for r in answers] == [200] * racers, [r.text for r in answers]
    with _scim(cluster, 0) as client:
        final = client.get(f"/Users/{user}").json()
    assert sorted(e["value"] for e in final["emails"]) == sorted(
        f"e{i}@x.test" for i in range(racers)
    )
    assert final["meta"]["version"] == f'W/"{1 + racers}"'
