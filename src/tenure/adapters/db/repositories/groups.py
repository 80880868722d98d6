"""Groups of one organisation and their direct members, changed as per-member deltas."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from tenure.adapters.db.prebuilt import Prebuilt
from tenure.adapters.db.repositories.base import TENANT, Bound, TenantRepository, tenant
from tenure.adapters.db.repositories.member_changes import (
    ADD_LIVE_HELD_PG,
    ADD_LIVE_HELD_PG_MANY,
    ADD_SQLITE,
    LIVE,
    REMOVE_HELD_PG,
    REMOVE_MEMBERS,
)
from tenure.adapters.db.repositories.standing import collect_standing
from tenure.adapters.db.rows import to_group, to_membership, to_org, to_room
from tenure.adapters.db.tables import (
    group_members,
    groups,
    organisations,
    rooms,
    unknown_members,
)
from tenure.domain.directory import Group, Room
from tenure.domain.membership import Membership, Standing
from tenure.domain.organisation import Organisation

Known = dict[str, Standing]  # each person's standing in one room, read and locked


class GroupRepository(TenantRepository):
    """Groups; member changes cost the same whatever the size of the group."""

    def get(
        self, group_id: str, *, lock: bool = False, include_deleted: bool = False
    ) -> Group | None:
        row = self.by_id(groups, group_id, include_deleted=include_deleted, lock=lock)
        return to_group(row) if row else None

    def for_change(self, group_id: str) -> tuple[Group, Room | None, Organisation] | None:
        """The group (locked), its room and its organisation, in one statement: what every
        member change needs first."""
        row = self.run(_for_change(self.dialect), group_id=group_id).first()
        if row is None:
            return None
        values = row._mapping
        room = None
        if values["r_id"] is not None:
            room = to_room(SimpleNamespace(**{n: values[k] for n, k in _labels(rooms, "r_")}))  # type: ignore[arg-type]
        org = to_org(SimpleNamespace(**{n: values[k] for n, k in _labels(organisations, "o_")}))  # type: ignore[arg-type]
        return to_group(row), room, org

    def name_taken(self, display_name: str, exclude_id: str | None) -> bool:
        stmt = select(groups.c.id).where(
            self.scoped(groups),
            groups.c.deleted_at.is_(None),
            groups.c.display_name_ci == display_name.lower(),
        )
        if exclude_id is not None:
            stmt = stmt.where(groups.c.id != exclude_id)
        return self.conn.execute(stmt.limit(1)).first() is not None

    def add(self, group: Group) -> None:
        self.conn.execute(
            insert(groups).values(
                id=group.id,
                org_id=self.org_id,
                created_at=group.created_at,
                member_count=0,
                **self._values(group),
            )
        )

    def update(self, group: Group) -> None:
        self.conn.execute(
            update(groups)
            .where(self.scoped(groups), groups.c.id == group.id)
            .values(**self._values(group))
        )

    def touch(self, group: Group, count_delta: int = 0) -> int:
        """Bump version and lastModified after a member change; returns the member count.

        ``group`` was read locked in this transaction (or created in it), so nobody else can
        change its count before the commit: the new count is known without reading it back,
        and the update is held to go with the commit.
        """
        self.hold(
            _TOUCH,
            [
                {
                    TENANT: self.org_id,
                    "group_id": group.id,
                    "b_version": group.version,
                    "b_updated_at": group.updated_at,
                    "b_delta": count_delta,
                }
            ],
        )
        return group.member_count + count_delta

    def mark_deleted(self, group: Group) -> None:
        self.conn.execute(
            update(groups)
            .where(self.scoped(groups), groups.c.id == group.id)
            .values(deleted_at=group.deleted_at, updated_at=group.updated_at, version=group.version)
        )
        self.run(_DELETE_MEMBERS, group_id=group.id)

    def search(
        self,
        where: ColumnElement[bool] | Bound | None,
        order_by: Sequence[Any],
        offset: int,
        limit: int,
    ) -> tuple[int, list[Group]]:
        total, rows = self.live_page(groups, where, order_by, offset, limit)
        return total, [to_group(r) for r in rows]

    # -- members ---------------------------------------------------------------------------

    def members(self, group_ids: Iterable[str]) -> dict[str, list[str]]:
        """Each group's member ids, in a stable order: as added, then by id."""
        ids = list(group_ids)
        if len(ids) == 1:  # one group read or written: its list as it comes
            return {ids[0]: list(self.run(_MEMBERS_OF, group_id=ids[0]).scalars())}
        found: dict[str, list[str]] = {g: [] for g in ids}
        if ids:
            for group_id, user_id in self.run(_MEMBERS, group_ids=ids):
                found[group_id].append(user_id)
        return found

    def member_ids(self, group_id: str) -> set[str]:
        return set(self.run(_MEMBER_IDS, group_id=group_id).scalars())

    def present(self, group_id: str, user_ids: Iterable[str]) -> set[str]:
        """Which of ``user_ids`` are members now (an indexed look-up, not a list scan)."""
        ids = list(set(user_ids))
        if not ids:
            return set()
        stmt = select(group_members.c.user_id).where(
            self.scoped(group_members),
            group_members.c.group_id == group_id,
            group_members.c.user_id.in_(ids),
        )
        return set(self.conn.scalars(stmt))

    def add_live_members(
        self, group_id: str, room_id: str, user_ids: Sequence[str], at: datetime
    ) -> tuple[dict[str, bool], list[str], Known | None]:
        """Add those of ``user_ids`` that name live users of the organisation.

        Returns each live user named (whether active) and who was actually added, in the
        order asked; the caller adjusts ``member_count`` (``touch``) by the number added.

        PostgreSQL does it in one statement: the look-up, the ``INSERT … ON CONFLICT DO
        NOTHING RETURNING``, and the memberships the added active people have in the group's
        room ``room_id``, read and locked (what ``lifecycle.join_room`` needs next, without a
        round trip of its own). They come back as the third item. SQLite does the first two in
        process, in two statements, and returns None there.
        """
        wanted = list(dict.fromkeys(user_ids))
        live: dict[str, bool] = {}
        fresh: set[str] = set()
        known: Known | None = {} if self.on_postgresql else None
        for chunk in _chunks(wanted):
            if known is not None:
                rows = self.run(
                    ADD_LIVE_HELD_PG_MANY if len(chunk) > 1 else ADD_LIVE_HELD_PG,
                    group_id=group_id,
                    user_ids=chunk,
                    added_at=at,
                    room_id=room_id,
                )
                for r in rows:
                    live[r.person] = bool(r.person_active)
                    if r.person_added:
                        fresh.add(r.person)
                        if r.person_active:
                            collect_standing(known, r.person, r)
                continue
            found = {r.id: bool(r.active) for r in self.run(LIVE, user_ids=chunk)}
            live.update(found)
            values = [
                {"group_id": group_id, "user_id": u, "org_id": self.org_id, "added_at": at}
                for u in chunk
                if u in found
            ]
            if values:
                fresh.update(self.conn.scalars(ADD_SQLITE, values))
        return live, [u for u in wanted if u in fresh], known

    def remove_members(
        self, group_id: str, user_ids: Sequence[str], room_id: str | None = None
    ) -> tuple[list[str], dict[str, Membership] | None]:
        """Delete the rows that are there; returns who was actually removed.

        With ``room_id``, on PostgreSQL the same statement also reads and locks the removed
        people's active memberships in that room (for ``lifecycle.leave_room``), returned
        second; None where they were not read.
        """
        removed: list[str] = []
        active: dict[str, Membership] | None = (
            {} if room_id is not None and self.on_postgresql else None
        )
        for chunk in _chunks(user_ids):
            if active is None:
                found = self.run(REMOVE_MEMBERS, group_id=group_id, user_ids=chunk)
                removed.extend(found.scalars())
                continue
            rows = self.run(REMOVE_HELD_PG, group_id=group_id, user_ids=chunk, room_id=room_id)
            for r in rows:
                removed.append(r.person)
                if r.id is not None:
                    active[r.person] = to_membership(r)
        return removed, active

    def groups_of(self, user_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """Each user's groups as (group id, display name): the read-only User ``groups``."""
        ids = list(set(user_ids))
        found: dict[str, list[tuple[str, str]]] = {u: [] for u in ids}
        if not ids:
            return found
        stmt = (
            select(group_members.c.user_id, groups.c.id, groups.c.display_name)
            .join(groups, groups.c.id == group_members.c.group_id)
            .where(self.scoped(group_members), group_members.c.user_id.in_(ids))
            .order_by(groups.c.display_name_ci)
        )
        for row in self.conn.execute(stmt):
            found[row.user_id].append((row.id, row.display_name))
        return found

    def remove_user_everywhere(self, user_id: str) -> list[str]:
        """Drop a deleted user from every group; returns the groups they were in."""
        stmt = select(group_members.c.group_id).where(
            self.scoped(group_members), group_members.c.user_id == user_id
        )
        group_ids = list(self.conn.scalars(stmt))
        for group_id in group_ids:
            self._count(group_id, -len(self.remove_members(group_id, [user_id])[0]))
        return group_ids

    def record_unknown(
        self, group_id: str, values: Sequence[str], request_id: str | None, at: datetime
    ) -> None:
        if values:
            self.conn.execute(
                insert(unknown_members),
                [
                    {
                        "org_id": self.org_id,
                        "group_id": group_id,
                        "value": v[:512],
                        "request_id": request_id,
                        "seen_at": at,
                    }
                    for v in values
                ],
            )

    def unknown(self, limit: int = 500) -> list[dict[str, Any]]:
        stmt = (
            select(unknown_members, groups.c.display_name)
            .join(groups, groups.c.id == unknown_members.c.group_id)
            .where(self.scoped(unknown_members))
            .order_by(unknown_members.c.id.desc())
            .limit(limit)
        )
        return [
            {
                "group_id": r.group_id,
                "group": r.display_name,
                "value": r.value,
                "request_id": r.request_id,
                "seen_at": r.seen_at,
            }
            for r in self.conn.execute(stmt)
        ]

    def _count(self, group_id: str, delta: int) -> None:
        self.conn.execute(
            update(groups)
            .where(self.scoped(groups), groups.c.id == group_id)
            .values(member_count=groups.c.member_count + delta)
        )

    def _values(self, group: Group) -> dict[str, Any]:
        return {
            "display_name": group.display_name,
            "display_name_ci": group.display_name.lower(),
            "external_id": group.external_id,
            "data": group.profile,
            "updated_at": group.updated_at,
            "version": group.version,
            "deleted_at": group.deleted_at,
        }


def _chunks(ids: Sequence[str], size: int = 1000) -> list[list[str]]:
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


# -- statements built once (see base.tenant) ----------------------------------------------


@cache
def _labels(table: Table, prefix: str) -> tuple[tuple[str, str], ...]:
    """(column, label) of each of ``table``'s columns as :func:`_for_change` reads them."""
    return tuple((c.name, prefix + c.name) for c in table.c)


@cache
def _for_change(dialect: str) -> Prebuilt:
    room_cols = [rooms.c[name].label(label) for name, label in _labels(rooms, "r_")]
    org_cols = [organisations.c[name].label(label) for name, label in _labels(organisations, "o_")]
    stmt = (
        select(groups, *room_cols, *org_cols)
        .select_from(
            groups.outerjoin(rooms, rooms.c.group_id == groups.c.id).join(
                organisations, organisations.c.id == groups.c.org_id
            )
        )
        .where(tenant(groups), groups.c.id == bindparam("group_id"), groups.c.deleted_at.is_(None))
    )
    # SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL locks the group's row.
    return Prebuilt(stmt.with_for_update(of=groups) if dialect == "postgresql" else stmt)


_TOUCH = Prebuilt(
    update(groups)
    .where(tenant(groups), groups.c.id == bindparam("group_id"))
    .values(
        version=bindparam("b_version"),
        updated_at=bindparam("b_updated_at"),
        member_count=groups.c.member_count + bindparam("b_delta"),
    )
)

# Ids only: a SCIM group lists its members by value and $ref (no display, see
# ``scim.groups.to_resource``), so the users table is not read for a member list.
_MEMBERS = Prebuilt(
    select(group_members.c.group_id, group_members.c.user_id)
    .where(
        tenant(group_members), group_members.c.group_id.in_(bindparam("group_ids", expanding=True))
    )
    .order_by(group_members.c.group_id, group_members.c.added_at, group_members.c.user_id),
    for_values=True,  # every member: from one row to 20k
)
_OF_GROUP = (tenant(group_members), group_members.c.group_id == bindparam("group_id"))
_MEMBERS_OF = Prebuilt(
    select(group_members.c.user_id)
    .where(*_OF_GROUP)
    .order_by(group_members.c.added_at, group_members.c.user_id),
    for_values=True,
)
_MEMBER_IDS = Prebuilt(select(group_members.c.user_id).where(*_OF_GROUP), for_values=True)
_DELETE_MEMBERS = Prebuilt(delete(group_members).where(*_OF_GROUP), for_values=True)
