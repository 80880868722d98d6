"""A real ``tenure serve`` process per storage backend, provisioned through the CLI.

The e2e tests talk HTTP to that process exactly as an identity provider does, so routing,
body limits, the ASGI server and the CLI are all under test; only set-up runs in-process (the
migration, and the extra organisations some tests need). One server per backend lives for the
whole session; every test makes its own names (or its own organisation, when it needs exact
counts), so tests never depend on one another. After each test, the server's log must show
no unexpected error: a 500 fails the test that caused it.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tenure.adapters.db.migrate import upgrade
from tests.conftest import BACKENDS, database_for, make_tenant
from tests.e2e.processes import cli, free_port, serve, wait_until_serving

SCIM_PATH = "/scim/v2"


@dataclass
class Tenant:
    """One organisation's view of the live server: its SCIM base URL and bearer token."""

    base_url: str
    token: str
    org_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/scim+json"}

    def client(self) -> httpx.Client:
        """An httpx client that speaks SCIM as this organisation's IdP."""
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30.0)


@dataclass
class Server:
    """The running ``tenure serve`` process and the organisation created for it by the CLI."""

    backend: str
    database_url: str
    root_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    tenant: Tenant

    @property
    def base_url(self) -> str:
        return self.root_url + SCIM_PATH

    @property
    def token(self) -> str:
        return self.tenant.token

    def new_tenant(self, name: str | None = None) -> Tenant:
        """Another organisation with its own SCIM token (in-process: the CLI is covered above)."""
        made = make_tenant(self.database_url, name or f"Board {uuid.uuid4().hex[:8]}")
        return Tenant(self.base_url, made.token, made.org_id)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A live server on a freshly migrated database of the requested backend."""
    folder = tmp_path_factory.mktemp(f"e2e-{request.param}")
    database_url = database_for(request.param, folder, "e2e")
    env = {**os.environ, "TENURE_DATABASE_URL": database_url}
    upgrade(database_url)  # what `tenure db upgrade` runs, without another interpreter start-up

    port = free_port()
    root = f"http://127.0.0.1:{port}"
    log_path = folder / "server.log"
    process = serve(env, port, log_path)
    # The operator's steps, while the server boots: an organisation and its SCIM token.
    try:
        org = cli(database_url, "org", "create", "E2E Board")
        issued = cli(database_url, "token", "create", org["id"])
    except BaseException:
        process.kill()
        process.wait(timeout=15)
        raise
    tenant = Tenant(root + SCIM_PATH, issued["token"], org["id"])
    try:
        wait_until_serving(process, tenant.base_url, tenant.token, log_path)
        yield Server(request.param, database_url, root, process, log_path, tenant)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def scim(server: Server) -> Iterator[httpx.Client]:
    """The IdP's HTTP client for the organisation the CLI created at start-up."""
    with server.tenant.client() as client:
        yield client


@pytest.fixture
def fresh(server: Server) -> Iterator[httpx.Client]:
    """A client for a brand-new organisation, for tests that count exact results."""
    with server.new_tenant().client() as client:
        yield client


@pytest.fixture(autouse=True)
def server_logs_no_internal_error(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test sends, the server never logs an unexpected error (a 500) for it."""
    if "server" not in request.fixturenames:
        yield  # a test that runs its own processes
        return
    server: Server = request.getfixturevalue("server")
    before = server.log_path.stat().st_size
    yield
    with server.log_path.open("rb") as log:
        log.seek(before)
        written = log.read().decode(errors="replace")
    assert "unexpected error" not in written and "Traceback" not in written, written[-4000:]
