"""A person's standing in a room, as SQL: what a member change reads of their memberships.

A re-add needs the active membership, the one that ended last and a count of all of them
(:class:`~tenure.domain.membership.Standing`); a removal needs the active one only. Both are
read here as rows of ``memberships``, by the memberships repository and, on PostgreSQL, inside
the statement that adds or removes a group's members (``member_changes.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select, text

from tenure.adapters.db.repositories.base import tenant
from tenure.adapters.db.rows import to_membership
from tenure.adapters.db.tables import memberships
from tenure.domain.membership import Standing, Status


def collect_standing(found: dict[str, Standing], person: str, row: Any) -> None:
    """A row of :func:`standing_rows` (or of an outer join to them: ``id`` None when the
    person has no membership) into ``person``'s standing, which is there either way."""
    held = found.setdefault(person, Standing())
    if row.id is not None:
        held.memberships.append(to_membership(row))
        held.total = row.total


def standing_rows(people: ColumnElement[bool]) -> Select[Any]:
    """The rows of :class:`Standing` for the people ``people`` picks (a condition on
    ``memberships.c.user_id``) in the room ``room_id``, each with the person's ``total``,
    in id order. The latest ended membership is the one :meth:`RoomPolicy.to_reinstate`
    would pick among all: the latest ``last_ended_at``, the lowest id on a tie."""
    m = memberships
    ended = (
        select(
            m.c.id,
            func.row_number()
            .over(partition_by=m.c.user_id, order_by=(m.c.last_ended_at.desc(), m.c.id))
            .label("rank"),
        )
        .where(
            tenant(m),
            m.c.room_id == bindparam("room_id"),
            people,
            m.c.status != Status.ACTIVE.value,
            m.c.last_ended_at.is_not(None),
        )
        .subquery("ended")
    )
    every = m.alias("every")
    total = (
        select(func.count())
        .where(
            every.c.org_id == m.c.org_id,
            every.c.room_id == m.c.room_id,
            every.c.user_id == m.c.user_id,
        )
        .scalar_subquery()
    )
    return (
        select(m, total.label("total"))
        .where(
            tenant(m),
            m.c.room_id == bindparam("room_id"),
            people,
            or_(
                m.c.status == Status.ACTIVE.value,
                m.c.id.in_(select(ended.c.id).where(ended.c.rank == 1)),
            ),
        )
        .order_by(m.c.id)
    )


def active_rows(people: ColumnElement[bool]) -> Select[Any]:
    """The active memberships of the people ``people`` picks in the room ``room_id``, in id
    order. The condition on the status is written as the one-active index's own predicate,
    so PostgreSQL can find each in that index, with a generic plan too."""
    m = memberships
    return (
        select(m)
        .where(tenant(m), m.c.room_id == bindparam("room_id"), people, _IS_ACTIVE)
        .order_by(m.c.id)
    )


_IS_ACTIVE = text("memberships.status = 'active'")
