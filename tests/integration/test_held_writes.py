"""Writes a unit of work holds back (a new user, its e-mails, audit entries) and sends as one
statement: every statement after them still sees them, they commit or fail together, and a
create that is nothing else commits by itself, while the next write on its connection is still
one transaction (whether its first statement is a prebuilt one or SQLAlchemy's own).
Both backends; on SQLite the held writes are simply sent one statement after another.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert, select, update
from starlette.testclient import TestClient

from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.prebuilt import Prebuilt
from tenure.adapters.db.tables import audit_log, group_members, user_emails, users
from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.audit import CLI
from tenure.domain.errors import Uniqueness
from tenure.services.users import UserData, create_user
from tests.conftest import Tenant
from tests.integration.scim_helpers import group_body, user_body

_ADD_MEMBER = Prebuilt(insert(group_members))
NOW = datetime(2026, 11, 29, tzinfo=UTC)


@pytest.fixture()
def engine(database_url: str) -> Iterator[Engine]:
    """One pooled connection, so every unit of work below reuses the same one."""
    made = make_engine(database_url, pool_size=1)
    try:
        yield made
    finally:
        made.dispose()


def _data(name: str, *emails: str) -> UserData:
    profile = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "emails": [{"value": e, "type": "work"} for e in emails],
    }
    return UserData(name, None, True, None, list(emails), profile)


def _stored(engine: Engine, tenant: Tenant, name: str) -> tuple[int, int, int]:
    """(users, e-mails, audit entries) stored for a userName in the tenant."""
    with engine.connect() as conn:
        ids = conn.scalars(
            select(users.c.id).where(users.c.org_id == tenant.org_id, users.c.user_name == name)
        ).all()
        emails = conn.scalars(select(user_emails.c.id).where(user_emails.c.user_id.in_(ids)))
        audit = conn.scalars(
            select(audit_log.c.id).where(
                audit_log.c.org_id == tenant.org_id, audit_log.c.resource_id.in_(ids)
            )
        )
        return len(ids), len(emails.all()), len(audit.all())


def test_a_created_user_is_stored_with_its_emails_and_audit_entry(
    engine: Engine, tenant: Tenant
) -> None:
    view = create_user(
        SqlUnitOfWork(engine, tenant.org_id, CLI), _data("ada", "ada@x.org", "a@x.org")
    )
    assert view.user.user_name == "ada"
    assert _stored(engine, tenant, "ada") == (1, 2, 1)


def test_a_statement_after_a_held_insert_sees_the_row(engine: Engine, tenant: Tenant) -> None:
    grace = create_user(SqlUnitOfWork(engine, tenant.org_id, CLI), _data("grace")).user
    with SqlUnitOfWork(engine, tenant.org_id, CLI) as uow:
        uow.users.add(replace(grace, id="u-held", user_name="hopper"))
        assert uow.users.get("u-held") is not None  # sent before this read
        total, found = uow.users.search(users.c.user_name_ci == "hopper", [users.c.id], 0, 10)
        assert total == 1 and found[0][0].id == "u-held"
        # Never committed: leaving the unit of work rolls the sent rows back.
    assert _stored(engine, tenant, "hopper") == (0, 0, 0)


def test_a_read_sends_the_held_writes_first_only_when_it_could_see_them(
    client: TestClient, engine: Engine, tenant: Tenant
) -> None:
    """A read of a table nothing held writes to leaves them for the commit (a small group's
    member change reads its member list, then sends its writes and audit together); a read
    of a table they write sees them."""
    grace = create_user(SqlUnitOfWork(engine, tenant.org_id, CLI), _data("grace")).user
    made = client.post("/scim/v2/Groups", json=group_body("Held"), headers=tenant.scim)
    group_id = made.json()["id"]
    with SqlUnitOfWork(engine, tenant.org_id, CLI) as uow:
        uow.users.add(replace(grace, id="u-later", user_name="later"))
        assert uow.groups.members([group_id]) == {group_id: []}
        assert uow._held  # still held: the read was of group members only
        uow.groups.hold(
            _ADD_MEMBER,
            [{"group_id": group_id, "user_id": grace.id, "org_id": tenant.org_id, "added_at": NOW}],
        )
        assert uow.groups.members([group_id]) == {group_id: [grace.id]}  # sent first
        assert not uow._held
        uow.users.add(replace(grace, id="u-kept", user_name="kept"))
        uow.groups.members([group_id])
        uow.commit()
    assert _stored(engine, tenant, "later")[0] == 1 and _stored(engine, tenant, "kept")[0] == 1


def test_a_taken_username_fails_at_commit_and_writes_nothing(
    engine: Engine, tenant: Tenant
) -> None:
    create_user(SqlUnitOfWork(engine, tenant.org_id, CLI), _data("linus", "l@x.org"))
    with pytest.raises(Uniqueness, match="userName 'LINUS' is already taken"):
        create_user(SqlUnitOfWork(engine, tenant.org_id, CLI), _data("LINUS", "other@x.org"))
    assert _stored(engine, tenant, "LINUS") == (0, 0, 0)
    assert _stored(engine, tenant, "linus") == (1, 1, 1)


def test_a_rename_to_a_taken_name_fails_at_commit_as_uniqueness(
    engine: Engine, tenant: Tenant
) -> None:
    """The update is held until the commit; a name another request took in the meantime
    (the service checks first, so only a race gets here) is still the client's 409."""
    create_user(SqlUnitOfWork(engine, tenant.org_id, CLI), _data("ken"))
    dennis = create_user(SqlUnitOfWork(engine, tenant.org_id, CLI), _data("dennis")).user
    with (
        pytest.raises(Uniqueness, match="userName 'KEN' is already taken"),
        SqlUnitOfWork(engine, tenant.org_id, CLI) as uow,
    ):
        uow.users.update(replace(dennis, user_name="KEN", version=2), previous=dennis)
        uow.commit()
    with SqlUnitOfWork(engine, tenant.org_id, CLI) as uow:
        kept = uow.users.get(dennis.id)
        assert kept is not None and kept.user_name == "dennis" and kept.version == dennis.version


def test_after_a_create_the_connection_is_transactional_again(
    engine: Engine, tenant: Tenant
) -> None:
    """A create that is one statement commits by itself and leaves its connection in
    autocommit; a later unit of work on it must still begin a transaction with its first
    statement (here one SQLAlchemy runs), or it could not roll back. The held insert in
    ``test_a_statement_after_a_held_insert_sees_the_row`` is the same case for a prebuilt one."""
    barbara = create_user(SqlUnitOfWork(engine, tenant.org_id, CLI), _data("barbara")).user
    with pytest.raises(RuntimeError), SqlUnitOfWork(engine, tenant.org_id, CLI) as uow:
        uow.conn.execute(  # SQLAlchemy's own statement, not a prebuilt one
            update(users).where(users.c.id == barbara.id).values(deleted_at=barbara.created_at)
        )
        raise RuntimeError("the use case fails after its first write")
    with SqlUnitOfWork(engine, tenant.org_id, CLI) as uow:
        assert uow.users.get(barbara.id) is not None  # the deletion was rolled back


def test_over_scim_a_duplicate_create_answers_409_and_leaves_no_trace(
    client: TestClient, tenant: Tenant, engine: Engine
) -> None:
    made = client.post("/scim/v2/Users", json=user_body("edsger"), headers=tenant.scim)
    assert made.status_code == 201
    again = client.post("/scim/v2/Users", json=user_body("Edsger"), headers=tenant.scim)
    assert again.status_code == 409
    assert again.json()["scimType"] == "uniqueness"
    assert _stored(engine, tenant, "Edsger") == (0, 0, 0)
    assert _stored(engine, tenant, "edsger")[0] == 1
