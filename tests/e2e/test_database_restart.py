"""A served ``tenure serve`` (uvicorn on uvloop) while PostgreSQL ends its sessions, as a restart
or a failover does: every request is still answered, none hangs on a connection that is gone.

The in-process tests of lost connections run on asyncio's own loop; the server runs on uvloop,
which drops the watch of a socket that reports an error (a reset connection) without a word.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tenure.adapters.db.migrate import upgrade
from tests.conftest import database_for
from tests.e2e.helpers import GROUP, PATCH_OP, USER
from tests.e2e.processes import cli, free_port, serve, wait_until_serving
from tests.integration.test_lost_connection import _drop_connections

# What a write cut off while saving answers: the client reads it back before retrying.
UNKNOWN_OUTCOME = "may or may not have been saved"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("restart")
    url = database_for("postgresql", folder, "restart")
    upgrade(url)
    org = cli(url, "org", "create", "Restart Board")
    token = cli(url, "token", "create", org["id"])["token"]
    port = free_port()
    base = f"http://127.0.0.1:{port}/scim/v2"
    log_path = folder / "server.log"
    process = serve({**os.environ, "TENURE_DATABASE_URL": url}, port, log_path)
    try:
        wait_until_serving(process, base, token, log_path)
        yield {"base": base, "headers": {"Authorization": f"Bearer {token}"}, "db": url}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a request still hung: the tests have failed already
            process.kill()
            process.wait(timeout=15)
    written = log_path.read_text(errors="replace")
    assert "Traceback" not in written and "unexpected error" not in written, written[-4000:]


def _client(served: dict[str, Any]) -> httpx.Client:
    # A request that hangs on a dead connection fails here instead of stalling the suite.
    return httpx.Client(base_url=served["base"], headers=served["headers"], timeout=20)


ENDINGS = 4  # sessions of the service the database ends while a test's requests go on


@contextmanager
def _sessions_ending(served: dict[str, Any]) -> Iterator[Callable[[], bool]]:
    """PostgreSQL ends every session of the service again and again (every 0.1 s) while the
    block runs. Yields whether to go on sending requests: until it has ended ``ENDINGS``
    sessions (or 30 s have passed: the test then fails on its count of endings)."""
    stop = threading.Event()
    ended: list[int] = []

    def end_sessions() -> None:
        while not stop.is_set():
            ended.append(_drop_connections(served["db"]))
            time.sleep(0.1)

    deadline = time.monotonic() + 30  # a bound on a broken run, not an assertion on speed

    def going_on() -> bool:
        return sum(ended) < ENDINGS and time.monotonic() < deadline

    killer = threading.Thread(target=end_sessions)
    killer.start()
    try:
        yield going_on
    finally:
        stop.set()
        killer.join()
    assert sum(ended) >= ENDINGS, ended


def _users(client: httpx.Client, prefix: str, n: int) -> list[str]:
    made = [
        client.post("/Users", json={"schemas": [USER], "userName": f"{prefix}{i}@ex.org"})
        for i in range(n)
    ]
    assert [r.status_code for r in made] == [201] * n
    return [r.json()["id"] for r in made]


def test_requests_after_the_database_ended_every_session_are_answered(
    served: dict[str, Any],
) -> None:
    with _client(served) as client:
        ids = _users(client, "after", 5)
        group = client.post(
            "/Groups", json={"schemas": [GROUP], "displayName": "After", "members": []}
        )
        assert group.status_code == 201
        assert _drop_connections(served["db"]) >= 1  # the service's own connections, idle
        read = [client.get(f"/Users/{i}").status_code for i in ids]
        made = client.post("/Users", json={"schemas": [USER], "userName": "after-new@ex.org"})
        added = client.patch(
            f"/Groups/{group.json()['id']}",
            json={
                "schemas": [PATCH_OP],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": ids[0]}]}],
            },
        )
    assert read == [200] * 5
    assert made.status_code == 201
    assert added.status_code in (200, 204)


def test_reads_while_the_database_keeps_ending_sessions_are_all_answered(
    served: dict[str, Any],
) -> None:
    with _client(served) as client:
        ids = _users(client, "busy", 8)

    def read(worker: int) -> list[int]:
        statuses: list[int] = []
        with _client(served) as client:
            while len(statuses) < 20 or going_on():
                name = f"busy{(worker + len(statuses)) % 8}@ex.org"
                answer = client.get("/Users", params={"filter": f'userName eq "{name}"'})
                statuses.append(answer.status_code)
        return statuses

    with _sessions_ending(served) as going_on, ThreadPoolExecutor(4) as pool:
        answers = [status for statuses in pool.map(read, range(4)) for status in statuses]
    assert set(answers) == {200}
    with _client(served) as client:
        assert client.get(f"/Users/{ids[0]}").status_code == 200


def test_writes_while_the_database_keeps_ending_sessions_are_saved_or_said_unknown(
    served: dict[str, Any],
) -> None:
    def create(worker: int) -> list[tuple[str, httpx.Response]]:
        sent: list[tuple[str, httpx.Response]] = []
        with _client(served) as client:
            while len(sent) < 20 or going_on():
                name = f"w{worker}-{len(sent)}@ex.org"
                sent.append(
                    (name, client.post("/Users", json={"schemas": [USER], "userName": name}))
                )
        return sent

    with _sessions_ending(served) as going_on, ThreadPoolExecutor(4) as pool:
        answers = [sent for each in pool.map(create, range(4)) for sent in each]
    unknown = [r for _, r in answers if r.status_code == 503]
    assert all(UNKNOWN_OUTCOME in r.json()["detail"] for r in unknown)
    assert {r.status_code for _, r in answers} <= {201, 503}
    # Each create either saved the user or said it could not tell: reading back finds every
    # one answered 201, and the unknown ones at most once.
    with _client(served) as client:
        for name, answer in answers:
            found = client.get("/Users", params={"filter": f'userName eq "{name}"'})
            count = found.json()["totalResults"]
            assert count == 1 if answer.status_code == 201 else count in (0, 1)
