"""The statements that add and remove a group's members, built once (see ``base.tenant``).

On PostgreSQL each is one statement that also reads and locks, in id order, the memberships
the people it adds or removes have in the group's room (``standing.py``): what
``lifecycle.join_room`` and ``leave_room`` need next, without a round trip of their own.
SQLite looks the people up and inserts them in two statements, and reads memberships apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, any_, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement

from tenure.adapters.db.prebuilt import Prebuilt
from tenure.adapters.db.repositories.base import TENANT, tenant
from tenure.adapters.db.repositories.standing import active_rows, standing_rows
from tenure.adapters.db.tables import group_members, memberships, users

_LIVE_USERS = select(users.c.id, users.c.active).where(
    tenant(users),
    users.c.id.in_(bindparam("user_ids", expanding=True)),
    users.c.deleted_at.is_(None),
)
LIVE = Prebuilt(_LIVE_USERS)
ADD_SQLITE = (
    sqlite_insert(group_members)
    .on_conflict_do_nothing(index_elements=["group_id", "user_id"])
    .returning(group_members.c.user_id)
)


def _live_many() -> Any:
    """The live users among several ``user_ids``, joined from ``unnest`` of the list to the
    primary key. With statistics PostgreSQL looks each id up; without them (autovacuum off,
    or a new database before its first ANALYZE) it hashes the organisation's users once.
    ``id = ANY(list)`` there filtered every user of the organisation against the whole list,
    chunk after chunk: a full replace of 20k members took 12.5 s (docs/performance.md)."""
    ids = bindparam("user_ids", type_=ARRAY(users.c.id.type))
    asked = func.unnest(ids).table_valued("id", name="asked").render_derived()
    return (
        select(users.c.id, users.c.active)
        .select_from(asked.join(users, users.c.id == asked.c.id))
        .where(tenant(users), users.c.deleted_at.is_(None))
    )


def _add_live_held_pg(many: bool) -> Prebuilt:
    """One id keeps ``IN``, which the prebuilt statement sends as ``=`` with a generic plan
    (the single member change IdPs send most); several go through :func:`_live_many`."""
    live = (_live_many() if many else _LIVE_USERS).cte("live")
    inserted = (
        pg_insert(group_members)
        .from_select(
            ["group_id", "user_id", "org_id", "added_at"],
            select(
                bindparam("group_id", type_=group_members.c.group_id.type),
                live.c.id,
                bindparam(TENANT, type_=group_members.c.org_id.type),
                bindparam("added_at", type_=group_members.c.added_at.type),
            ),
        )
        .on_conflict_do_nothing(index_elements=["group_id", "user_id"])
        .returning(group_members.c.user_id)
        .cte("inserted")
    )
    held = _held(
        standing_rows,
        select(inserted.c.user_id)
        .join(live, live.c.id == inserted.c.user_id)
        .where(live.c.active.is_(True)),
    )
    return Prebuilt(
        select(
            live.c.id.label("person"),
            live.c.active.label("person_active"),
            inserted.c.user_id.is_not(None).label("person_added"),
            *held.c,
        )
        .select_from(
            live.outerjoin(inserted, inserted.c.user_id == live.c.id).outerjoin(
                held, held.c.user_id == live.c.id
            )
        )
        .order_by(held.c.id)
    )


def _held(rows: Callable[[ColumnElement[bool]], Select[Any]], people: Any) -> Any:
    """``rows`` (``standing_rows`` for an add, ``active_rows`` for a removal) of ``people``
    (a select of user ids) in the room ``room_id``, locked in id order as the memberships
    repository locks them; materialised, so every row is locked before the rows are joined.

    ``people`` is gathered into an array first, so PostgreSQL looks the memberships up once,
    as for a list of ids, whatever its statistics say: a plan made while the table was small
    joined them person by person with a scan of the whole table each (a group filled by
    batches of 100 slowed from 36 to 6 batches a second by 20k members).
    """
    picked = memberships.c.user_id == any_(func.array(people.scalar_subquery()))
    return rows(picked).with_for_update(of=memberships).cte("held").prefix_with("MATERIALIZED")


ADD_LIVE_HELD_PG = _add_live_held_pg(many=False)
ADD_LIVE_HELD_PG_MANY = _add_live_held_pg(many=True)

_REMOVING = (
    delete(group_members)
    .where(
        tenant(group_members),
        group_members.c.group_id == bindparam("group_id"),
        group_members.c.user_id.in_(bindparam("user_ids", expanding=True)),
    )
    .returning(group_members.c.user_id)
)
REMOVE_MEMBERS = Prebuilt(_REMOVING)


def _remove_held_pg() -> Prebuilt:
    gone = _REMOVING.cte("gone")
    held = _held(active_rows, select(gone.c.user_id))
    return Prebuilt(
        select(gone.c.user_id.label("person"), *held.c)
        .select_from(gone.outerjoin(held, held.c.user_id == gone.c.user_id))
        .order_by(held.c.id)
    )


REMOVE_HELD_PG = _remove_held_pg()
