"""The migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from pathlib import Path

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.migrate import analyze, upgrade
from tenure.adapters.db.tables import metadata
from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.audit import CLI
from tenure.services.users import UserData, create_user
from tests.conftest import database_for, make_tenant


def test_migrated_schema_matches_the_declared_tables(database_url: str) -> None:
    engine = make_engine(database_url, pooled=False)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert differences == []


def _plan(url: str, sql: str) -> str:
    """The generic plan PostgreSQL keeps for a prepared statement (what a connection reuses
    for a foreign-key check on every insert, once the statement has run a few times)."""
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE probe(text) AS {sql}")
        return "\n".join(str(r[0]) for r in conn.execute("EXPLAIN EXECUTE probe('x')"))


def test_a_fresh_database_plans_for_tables_that_will_grow(tmp_path: Path) -> None:
    """``db upgrade`` analyses only tables with rows: an empty table analysed would be known
    as empty, and the foreign-key checks planned on it would scan it whole ever after."""
    url = database_for("postgresql", tmp_path, "plans")
    upgrade(url)
    check = "SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE"
    assert "Index" in _plan(url, check), _plan(url, check)

    tenant = make_tenant(url)
    engine = make_engine(url, pooled=False)
    try:
        for i in range(3):
            create_user(SqlUnitOfWork(engine, tenant.org_id, CLI), _person(f"p{i}"))
    finally:
        engine.dispose()
    analyze(url)
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        analysed = conn.execute(
            "SELECT relname FROM pg_class WHERE relname IN ('users', 'user_aliases')"
            " AND reltuples >= 0"
        ).fetchall()
    assert analysed == [("users",)]  # with rows now: analysed; still empty: left alone


def _person(name: str) -> UserData:
    profile = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}
    return UserData(name, None, True, None, [], profile)
