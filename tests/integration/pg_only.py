"""Fixtures for tests that need PostgreSQL itself (a server to lose, rows to lock): a fresh
database per test and the service on it. Import them into the test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tenure.adapters.db.migrate import upgrade
from tenure.settings import Settings
from tenure.web.app import create_app
from tests.conftest import database_for


@pytest.fixture()
def pg_url(tmp_path: Path) -> str:
    url = database_for("postgresql", tmp_path, "pg")
    upgrade(url)
    return url


@pytest.fixture()
def pg_client(pg_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=pg_url)), base_url="http://t") as c:
        yield c
