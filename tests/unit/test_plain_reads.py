"""Which statements count as plain reads, which held writes need not precede (no database)."""

from __future__ import annotations

from sqlalchemy import insert, select

from tenure.adapters.db.prebuilt import plain_read
from tenure.adapters.db.repositories.groups import _MEMBERS
from tenure.adapters.db.repositories.member_changes import ADD_LIVE_HELD_PG
from tenure.adapters.db.tables import group_members, memberships, users


def test_a_select_reads_every_table_it_names_in_its_subqueries_too() -> None:
    inner = select(memberships.c.user_id).where(memberships.c.room_id == "r").subquery()
    stmt = select(users.c.id).where(users.c.id.in_(select(inner.c.user_id)))
    assert plain_read(stmt) == frozenset({users, memberships})
    assert _MEMBERS.reads == frozenset({group_members})


def test_locking_or_writing_statements_are_not_plain_reads() -> None:
    assert plain_read(select(users.c.id).with_for_update()) is None
    locked = select(memberships.c.id).with_for_update().cte("held")
    assert plain_read(select(locked.c.id)) is None
    assert plain_read(insert(users)) is None
    made = insert(users).returning(users.c.id).cte("made")
    assert plain_read(select(made.c.id)) is None
    assert ADD_LIVE_HELD_PG.reads is None  # a SELECT over an INSERT … RETURNING
