"""What PostgreSQL keeps prepared on a SCIM connection: the statements survive a request that
rolls back, an IdP's look-up is planned once, generically, not on every run, and so are the
statements of a one-member change. And how the connection's mode is set.

PostgreSQL only: SQLite prepares nothing across statements.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import greenlet_spawn
from starlette.testclient import TestClient

from tenure.adapters.db.driver import AsyncConnection, Connection
from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.kept import kept_for
from tenure.adapters.db.prebuilt import Prebuilt, execute, open_mode
from tenure.adapters.db.repositories.base import TENANT, tenant
from tenure.adapters.db.repositories.groups import _MEMBERS, _MEMBERS_OF
from tenure.adapters.db.tables import users
from tenure.settings import Settings
from tenure.web.app import create_app
from tests.conftest import make_tenant
from tests.integration.pg_only import pg_url
from tests.integration.scim_helpers import group_body, patch, user_body

__all__ = ["pg_url"]  # fixtures

PLANS = "SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements"


def _plans_on_the_scim_connection(client: TestClient) -> list[Any]:
    """The prepared statements of the one connection SCIM kept (a pool of one)."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    kept = kept_for(runtime.loop_engine.sync_engine)

    def read() -> list[Any]:
        conn = kept.take()
        try:
            return list(conn.exec_driver_sql(PLANS).all())
        finally:
            conn.rollback()
            kept.give(conn)

    assert client.portal is not None
    return client.portal.call(greenlet_spawn, read)


def test_an_idps_look_up_is_planned_generically_across_a_rolled_back_request(
    pg_url: str,
) -> None:
    tenant = make_tenant(pg_url)
    app = create_app(Settings(database_url=pg_url, db_pool_size=1))
    with TestClient(app, base_url="http://t") as client:
        ids = []
        for i in range(8):
            made = client.post("/scim/v2/Users", json=user_body(f"u{i}"), headers=tenant.scim)
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])

        def look_up(i: int) -> None:
            found = client.get(
                "/scim/v2/Users",
                params={"filter": f'userName eq "u{i}"'},
                headers=tenant.scim,
            )
            assert found.json()["Resources"][0]["id"] == ids[i]

        for i in range(7):
            look_up(i)
        # Entra's "replace active" that changes nothing: its transaction rolls back.
        same = patch({"op": "replace", "value": {"active": True}})
        unchanged = client.patch(f"/scim/v2/Users/{ids[0]}", json=same, headers=tenant.scim)
        assert unchanged.status_code == 200, unchanged.text
        look_up(7)
        plans = _plans_on_the_scim_connection(client)

    by_user_name = [
        p for p in plans if "user_name_ci = $" in p.statement and "LIMIT" in p.statement
    ]
    assert len(by_user_name) == 1, plans  # still prepared after the rollback
    assert by_user_name[0].name.startswith("tenure_")  # run straight on libpq (``driver``)
    assert "OFFSET" not in by_user_name[0].statement
    assert by_user_name[0].generic_plans >= 1  # planned once, not for every name


def test_one_member_changes_are_planned_generically_never_for_their_values(
    pg_url: str,
) -> None:
    """PostgreSQL's default plans a statement for its values at its first five runs, and
    for ever after when the generic plan is estimated dearer: the member statements of a
    SCIM write were planned anew at every change."""
    tenant = make_tenant(pg_url)
    app = create_app(Settings(database_url=pg_url, db_pool_size=1))
    with TestClient(app, base_url="http://t") as client:
        ids = [
            client.post("/scim/v2/Users", json=user_body(f"m{i}"), headers=tenant.scim).json()["id"]
            for i in range(4)
        ]
        made = client.post(
            "/scim/v2/Groups", json=group_body("Board", ids[:2]), headers=tenant.scim
        )
        group = f"/scim/v2/Groups/{made.json()['id']}"
        for _ in range(4):
            for person in ids[2:]:
                add = patch({"op": "add", "path": "members", "value": [{"value": person}]})
                remove = patch({"op": "remove", "path": f'members[value eq "{person}"]'})
                for change in (add, remove):
                    done = client.patch(group, json=change, headers=tenant.scim)
                    assert done.status_code == 200, done.text
        after_changes = _plans_on_the_scim_connection(client)
        # Okta's full replace: the group's current members are read to find who leaves, and
        # one joins and one leaves by the same statements as a PATCH's.
        for person in ids[2:] * 3:
            body = group_body("Board", [*ids[:2], person])
            replaced = client.put(group, json=body, headers=tenant.scim)
            assert replaced.status_code == 200, replaced.text
            assert sorted(m["value"] for m in replaced.json()["members"]) == sorted(body_ids(body))
        members = client.get(group, headers=tenant.scim).json()["members"]
        plans = _plans_on_the_scim_connection(client)

    assert sorted(m["value"] for m in members) == sorted([*ids[:2], ids[3]])
    starts = ("WITH live AS", "WITH gone AS")
    changes = [p for p in after_changes if p.statement.startswith(starts)]
    assert len(changes) == 2, after_changes  # the add and the removal, each prepared once
    for plan in changes:
        assert plan.custom_plans == 0, plan
        assert plan.generic_plans >= 6, plan
    # The replaces' member statements (6 joins, 5 leaves) stay generic too: reading the
    # current members no longer switches the rest of the transaction to plans by value.
    replaced = [p for p in plans if p.statement.startswith(starts)]
    assert all(plan.custom_plans == 0 for plan in replaced), replaced
    runs = sum(p.generic_plans for p in replaced) - sum(p.generic_plans for p in changes)
    assert runs >= 10, replaced
    # The member list each answer carries, and the one a replace compares with, are all of
    # one group's rows, one to 20k: sent with the group written in, not prepared, so planned
    # for that group (a generic plan of them read the whole table for a small group).
    assert not [p for p in plans if p.statement.startswith("SELECT group_members.user_id")], plans


def body_ids(body: dict[str, Any]) -> list[str]:
    return [m["value"] for m in body["members"]]


def test_a_statement_sent_with_its_values_reads_awkward_text_and_lists_as_they_are(
    pg_url: str,
) -> None:
    """The values are written in as psycopg's literals: quotes, backslashes and the like
    reach PostgreSQL as data, and a list as an array, inside a SCIM write transaction and in
    a read."""
    tenant = make_tenant(pg_url)
    app = create_app(Settings(database_url=pg_url, db_pool_size=1))
    names = ["o'brien", "back\\slash", "dollar $1 sign", "semi; colon --", 'quote"s']
    with TestClient(app, base_url="http://t") as client:
        made = {}
        for name in names:
            r = client.post("/scim/v2/Users", json=user_body(name), headers=tenant.scim)
            assert r.status_code == 201, r.text
            made[name] = r.json()["id"]
        ids = list(made.values())
        groups = {}
        for name, members in (("Board", ids[:2]), ("Audit", ids[1:])):
            r = client.post("/scim/v2/Groups", json=group_body(name, members), headers=tenant.scim)
            assert r.status_code == 201, r.text
            groups[r.json()["id"]] = members
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        kept = kept_for(runtime.loop_engine.sync_engine)

        def read(write: bool) -> tuple[list[list[Any]], list[Any]]:
            conn = kept.take()
            transaction = conn.begin()  # as a unit of work does: its end rolls psycopg back
            try:
                open_mode(conn, write=write)
                by_name = [
                    list(execute(conn, _BY_NAME, {TENANT: tenant.org_id, "name": n})) for n in names
                ]
                of_groups = {TENANT: tenant.org_id, "group_ids": list(groups)}
                return by_name, list(execute(conn, _MEMBERS, of_groups))
            finally:
                transaction.rollback()
                kept.give(conn)

        assert client.portal is not None
        for write in (True, False):
            found, members = client.portal.call(greenlet_spawn, read, write)
            assert [[row.id for row in rows] for rows in found] == [[made[n]] for n in names]
            listed: dict[str, set[str]] = {g: set() for g in groups}
            for group_id, user_id in members:
                listed[group_id].add(user_id)
            assert listed == {g: set(m) for g, m in groups.items()}


_BY_NAME = Prebuilt(
    select(users.c.id).where(tenant(users), users.c.user_name == bindparam("name")),
    for_values=True,
)


def test_a_scim_write_transaction_alone_plans_generically(pg_url: str) -> None:
    """``SET LOCAL`` ends with the transaction: reads in autocommit keep the default, and so
    does a transaction with an isolation level of its own (psycopg's own BEGIN)."""
    mode = "SELECT current_setting('plan_cache_mode')"

    async def check() -> None:
        dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
        conn = await AsyncConnection.connect(dsn)
        try:
            assert await (await conn.execute(mode)).fetchone() == ("force_generic_plan",)
            await conn.commit()
            assert await (await conn.execute(mode)).fetchone() == ("force_generic_plan",)
            await conn.commit()
            await conn.set_autocommit(True)
            assert await (await conn.execute(mode)).fetchone() == ("auto",)
            await conn.set_autocommit(False)
            await conn.set_isolation_level(psycopg.IsolationLevel.SERIALIZABLE)
            assert await (await conn.execute(mode)).fetchone() == ("auto",)
            await conn.rollback()
            await conn.set_isolation_level(None)
            # A server that ended the session (a restart): the BEGIN fails as psycopg's does.
            pid = conn.info.backend_pid
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as other:
                await other.execute("SELECT pg_terminate_backend(%s)", [pid])
            try:
                await conn.execute("SELECT 1")
            except psycopg.OperationalError:
                pass
            else:
                raise AssertionError("a transaction began on a session the server ended")
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, check()).result()


def test_a_session_lost_before_a_statement_sent_with_its_values_fails_as_a_lost_connection(
    pg_url: str,
) -> None:
    """What the use cases retry (``uow.retry_races``): SQLAlchemy's error for a connection
    it has invalidated, as for any statement, not psycopg's own."""
    app = create_app(Settings(database_url=pg_url, db_pool_size=1))
    with TestClient(app, base_url="http://t") as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        kept = kept_for(runtime.loop_engine.sync_engine)
        dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")

        def lose_the_session_then_read_members() -> DBAPIError | None:
            conn = kept.take()
            try:
                open_mode(conn, write=True)
                conn.exec_driver_sql("SELECT 1")  # begins the transaction, generically
                pid = conn.connection.driver_connection.info.backend_pid
                with psycopg.connect(dsn, autocommit=True) as other:
                    other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
                try:
                    execute(conn, _MEMBERS_OF, {TENANT: "org", "group_id": "group"})
                except DBAPIError as error:
                    return error
                return None
            finally:
                kept.give(conn)

        assert client.portal is not None
        error = client.portal.call(greenlet_spawn, lose_the_session_then_read_members)
    assert error is not None and error.connection_invalidated


def test_statements_prepared_in_a_rolled_back_transaction_still_run(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1)
    try:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert isinstance(raw, Connection)
            for value in range(3):  # prepared on its second run, inside the transaction
                conn.exec_driver_sql("SELECT %(v)s::int", {"v": value})
            conn.rollback()
            assert conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar()
            assert conn.exec_driver_sql("SELECT %(v)s::int", {"v": 7}).scalar() == 7

            # A statement due to be prepared in a transaction that has already failed is not
            # recorded as prepared: after the rollback it is prepared anew and runs.
            try:
                conn.exec_driver_sql("SELECT 1 / 0")
            except Exception as error:
                assert isinstance(error.__cause__, psycopg.errors.DivisionByZero)
            for value in range(2):
                try:
                    conn.exec_driver_sql("SELECT %(v)s::bigint", {"v": value})
                except Exception as error:
                    assert isinstance(error.__cause__, psycopg.errors.InFailedSqlTransaction)
            conn.rollback()
            for value in range(3):
                assert conn.exec_driver_sql("SELECT %(v)s::bigint", {"v": value}).scalar() == value
    finally:
        engine.dispose()


def test_autocommit_is_set_at_once_only_on_an_idle_connection(pg_url: str) -> None:
    """The unit of work's mode changes without a trip through the event loop, but never in a
    transaction, where psycopg refuses the change: that path still goes to psycopg."""

    async def check() -> None:
        dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
        conn = await AsyncConnection.connect(dsn)
        try:
            assert conn.set_autocommit_idle(True) and conn.autocommit
            assert conn.set_autocommit_idle(False) and not conn.autocommit
            await conn.execute("SELECT 1")  # begins a transaction
            assert not conn.set_autocommit_idle(True)
            assert not conn.autocommit
            await conn.rollback()
            assert conn.set_autocommit_idle(True) and conn.autocommit
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as thread:  # a loop of its own, whatever runs in this thread
        thread.submit(asyncio.run, check()).result()


def test_prebuilt_statements_run_by_names_of_the_connections_own(pg_url: str) -> None:
    """A SCIM connection runs a statement straight on libpq: unnamed at its first run, then
    prepared under a name of its own; values of other types make a statement of their own.
    A server that forgot the names (``DEALLOCATE ALL``) costs a read nothing, and a write
    transaction its own failure only; a transaction still to begin begins as psycopg's."""
    sql = b"SELECT $1::text || '!', $2::int"
    names = "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'tenure%'"

    async def check() -> None:
        dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
        conn = await AsyncConnection.connect(dsn, autocommit=True)
        try:
            assert await conn.run_prepared(sql, ["a", 1]) == [("a!", 1)]
            assert await (await conn.execute(names)).fetchall() == []
            assert await conn.run_prepared(sql, ["b", 2]) == [("b!", 2)]
            prepared = await (await conn.execute(names)).fetchall()
            assert [(n, s.encode()) for n, s in prepared] == [("tenure_0", sql)]
            assert await conn.run_prepared(sql, [None, 3]) == [(None, 3)]
            assert await conn.run_prepared(sql, ["c", 3]) == [("c!", 3)]
            assert await conn.run_prepared(b"SELECT 1 WHERE false", []) == []
            with pytest.raises(psycopg.errors.DivisionByZero):
                await conn.run_prepared(b"SELECT 1 / $1::int", [0])

            await conn.execute("DEALLOCATE ALL")
            assert await conn.run_prepared(sql, ["d", 4]) == [("d!", 4)]

            await conn.set_autocommit(False)
            assert await conn.run_prepared(sql, ["e", 5]) == [("e!", 5)]  # after BEGIN
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            mode = await (
                await conn.execute("SELECT current_setting('plan_cache_mode')")
            ).fetchone()
            assert mode == ("force_generic_plan",)
            assert await conn.run_prepared(sql, ["f", 6]) == [("f!", 6)]
            assert await conn.run_prepared(sql, ["g", 7]) == [("g!", 7)]
            await conn.execute("DEALLOCATE ALL")
            with pytest.raises(psycopg.errors.InvalidSqlStatementName):
                await conn.run_prepared(sql, ["h", 8])
            await conn.rollback()
            for value in range(3):
                assert await conn.run_prepared(sql, ["i", value]) == [("i!", value)]
            await conn.commit()
            prepared = await (await conn.execute(names)).fetchall()
            assert len(prepared) == 1 and prepared[0][0] not in ("tenure_0", "tenure_1")
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, check()).result()
