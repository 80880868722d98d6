"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is required: when it cannot be reached the PostgreSQL half of the suite errors
(never skips), so CI fails loudly instead of passing on half the storage.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.migrate import upgrade
from tenure.adapters.db.uow import PlatformUnitOfWork
from tenure.domain.audit import CLI
from tenure.services import platform
from tenure.settings import Settings
from tenure.web.app import create_app

PG_URL = os.environ.get(
    "TENURE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/tenure_test"
)
BACKENDS = ["sqlite", "postgresql"]
# Databases are named per test run, so two runs on one machine never drop each other's.
RUN = os.getpid()
_CREATED: list[str] = []


def fresh_postgres(url: str) -> str:
    """Drop and re-create the database named in ``url``; fail the run if PostgreSQL is absent."""
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    admin = admin.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{parsed.database}"')
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is required for the storage tests and is unreachable at {url}: {error}",
            pytrace=False,
        )
    _CREATED.append(url)
    return url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this run's PostgreSQL databases (servers are stopped by then)."""
    for url in _CREATED:
        parsed = make_url(url)
        admin = parsed.set(database="postgres").render_as_string(hide_password=False)
        try:
            with psycopg.connect(
                admin.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        except psycopg.Error:
            pass  # left behind for inspection; the next run of this name starts fresh anyway


def database_for(backend: str, folder: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / (name + '.db')}"
    return fresh_postgres(
        make_url(PG_URL)
        .set(database=f"{make_url(PG_URL).database}_{name}_{RUN}")
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = database_for(request.param, tmp_path_factory.mktemp("db"), "it")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://testserver") as test_client:
        yield test_client


@dataclass
class Tenant:
    """A fresh organisation with a SCIM token and an org-admin key: tests never share data."""

    org_id: str
    slug: str
    token: str
    admin_key: str

    @property
    def scim(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/scim+json"}

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}


def make_tenant(url: str, name: str = "Test Board") -> Tenant:
    engine = make_engine(url, pool_size=1)
    try:
        org = platform.create_org(PlatformUnitOfWork(engine), name, CLI)
        token = platform.create_token(PlatformUnitOfWork(engine), org.id, "test", CLI)
        key = platform.create_api_key(PlatformUnitOfWork(engine), org.id, "org-admin", "test", CLI)
    finally:
        engine.dispose()
    return Tenant(org.id, org.slug, token.secret, key.secret)


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    return make_tenant(database_url)


@pytest.fixture(scope="session")
def support_key(database_url: str) -> str:
    engine = make_engine(database_url, pool_size=1)
    try:
        return platform.create_api_key(
            PlatformUnitOfWork(engine), None, "support", "test", CLI
        ).secret
    finally:
        engine.dispose()
