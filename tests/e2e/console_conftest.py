"""Fixtures for the console browser test: a real ``tenure serve`` per backend, and a story in it.

Everything is set up the way an operator and an identity provider would: the CLI issues the
organisation and keys, SCIM over HTTP provisions people and groups, the admin API adds history.
Chromium is Debian's (/usr/bin/chromium), kept on loopback by a host-resolver rule.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import database_for
from tests.e2e.processes import free_port, serve

TENURE = str(Path(sys.executable).parent / "tenure")
BACKENDS = ("sqlite", "postgresql")
STARTUP_DEADLINE_SECONDS = 60.0  # a start-up timeout, not an assertion on speed
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # keep the browser on loopback: no DNS look-ups for any outside host
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def cli(database_url: str, *commands: tuple[str, ...]) -> list[Any]:
    """Run ``tenure ARGS --json`` for each command, side by side (each is a separate process)."""
    env = {**os.environ, "TENURE_DATABASE_URL": database_url}
    running = [
        subprocess.Popen(
            [TENURE, *args, "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    answers = []
    for args, process in zip(commands, running, strict=True):
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, f"tenure {' '.join(args)} failed: {err}"
        answers.append(json.loads(out))
    return answers


def fresh_postgres() -> str:
    """A fresh console test database for this run; fails (never skips) without PostgreSQL."""
    return database_for("postgresql", Path("."), "console")


@dataclass
class ConsoleServer:
    """The running server and the credentials the CLI issued for it."""

    backend: str
    root: str
    org_id: str
    org_name: str
    scim_token: str
    admin_key: str
    support_key: str
    log_path: Path
    facts: dict[str, str] = field(default_factory=dict)

    def scim(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.root + "/scim/v2",
            timeout=30.0,
            headers={"Authorization": f"Bearer {self.scim_token}"},
        )

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.root + "/api/v1",
            timeout=30.0,
            headers={"Authorization": f"Bearer {self.admin_key}"},
        )


def _wait_until_serving(process: subprocess.Popen[bytes], root: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"tenure serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{root}/login", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(
        f"tenure serve did not answer within {STARTUP_DEADLINE_SECONDS}s:\n{log.read_text()}"
    )


@dataclass
class Started:
    """A server process launched on a database that is not provisioned yet."""

    backend: str
    database_url: str
    root: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def _start(backend: str, folder: Path) -> Started:
    """Launch ``tenure serve``; it touches no table until a request comes, so it may go first."""
    sqlite_url = f"sqlite:///{folder / 'console.db'}"
    database_url = sqlite_url if backend == "sqlite" else fresh_postgres()
    port = free_port()
    log_path = folder / "server.log"
    process = serve({**os.environ, "TENURE_DATABASE_URL": database_url}, port, log_path)
    return Started(backend, database_url, f"http://127.0.0.1:{port}", log_path, process)


def _provision(started: Started) -> ConsoleServer:
    """Make the schema, then issue what an operator would: an organisation and its keys."""
    env = {**os.environ, "TENURE_DATABASE_URL": started.database_url}
    subprocess.run([TENURE, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    org, support = cli(
        started.database_url,
        ("org", "create", "Northwind Trust"),
        ("apikey", "create", "--role", "support"),
    )
    token, admin = cli(
        started.database_url,
        ("token", "create", org["id"]),
        ("apikey", "create", org["id"], "--role", "org-admin"),
    )
    _wait_until_serving(started.process, started.root, started.log_path)
    return ConsoleServer(
        started.backend,
        started.root,
        org["id"],
        org["name"],
        token["token"],
        admin["key"],
        support["key"],
        started.log_path,
    )


@pytest.fixture(scope="session")
def console_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, ConsoleServer]]:
    """A live server per backend, started side by side: start-up is mostly waiting on processes."""
    started: list[Started] = []
    try:
        for backend in BACKENDS:
            started.append(_start(backend, tmp_path_factory.mktemp(f"console-{backend}")))
        with ThreadPoolExecutor(len(started)) as pool:
            servers = list(pool.map(_provision, started))
        yield {server.backend: server for server in servers}
    finally:
        for each in started:
            each.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def console_server(
    request: pytest.FixtureRequest, console_servers: dict[str, ConsoleServer]
) -> ConsoleServer:
    return console_servers[request.param]


@pytest.fixture(scope="session")
def base_url(console_server: ConsoleServer) -> str:
    """pytest-playwright resolves ``page.goto("/x")`` against this."""
    return console_server.root


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    return response.json() if response.content else None


def _user(scim: httpx.Client, given: str, family: str) -> str:
    email = f"{given.lower()}@northwind.example"
    body = {
        "schemas": [USER],
        "userName": email,
        "displayName": f"{given} {family}",
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": email, "type": "work", "primary": True}],
        "active": True,
    }
    return str(_ok(scim.post("/Users", json=body))["id"])


def _members(scim: httpx.Client, group_id: str, op: str, user_ids: list[str]) -> None:
    body = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": op, "path": "members", "value": [{"value": u} for u in user_ids]}],
    }
    _ok(scim.patch(f"/Groups/{group_id}", json=body))


def _room_of(api: httpx.Client, group_id: str) -> str:
    rooms = _ok(api.get("/rooms"))["items"]
    return str(next(r["id"] for r in rooms if r["group_id"] == group_id))


@pytest.fixture(scope="session")
def story(console_server: ConsoleServer) -> ConsoleServer:
    return tell_story(console_server)


def tell_story(console_server: ConsoleServer) -> ConsoleServer:
    """Ada served on the Audit Committee with history, was removed and re-added fresh; the
    Finance Committee lost five of its six members in one sync."""
    with console_server.scim() as scim, console_server.api() as api:
        _ok(api.patch("/organisation", json={"readd_policy": "fresh"}))
        ada, grace, alan = (
            _user(scim, g, f)
            for g, f in (("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"))
        )
        audit = _ok(
            scim.post(
                "/Groups",
                json={
                    "schemas": [GROUP],
                    "displayName": "Audit Committee",
                    "members": [{"value": u} for u in (ada, grace, alan)],
                },
            )
        )
        room = _room_of(api, audit["id"])
        old = next(
            m for m in _ok(api.get(f"/users/{ada}/memberships"))["items"] if m["room_id"] == room
        )
        _ok(api.patch(f"/memberships/{old['id']}", json={"role": "assistant"}))
        meeting = _ok(
            api.post(
                f"/rooms/{room}/meetings",
                json={"title": "Q3 board", "starts_at": "2026-01-15T09:00:00Z"},
            )
        )
        _ok(api.post(f"/meetings/{meeting['id']}/attendance", json={"membership_id": old["id"]}))
        _ok(
            api.post(
                f"/meetings/{meeting['id']}/notes",
                json={"membership_id": old["id"], "text": "ask about the audit fee"},
            )
        )
        _ok(
            api.post(
                f"/rooms/{room}/tasks",
                json={"title": "Review minutes", "assignee_membership_id": old["id"]},
            )
        )
        _members(scim, audit["id"], "remove", [ada])
        _members(scim, audit["id"], "add", [ada])

        finance_people = [_user(scim, f"Fin{i}", "Member") for i in range(6)]
        finance = _ok(
            scim.post(
                "/Groups",
                json={
                    "schemas": [GROUP],
                    "displayName": "Finance Committee",
                    "members": [{"value": u} for u in finance_people],
                },
            )
        )
        _members(scim, finance["id"], "remove", finance_people[:5])
    console_server.facts.update(ada=ada, room=room, old_membership=old["id"])
    return console_server
