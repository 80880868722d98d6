"""Memberships of one organisation and their periods."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, insert, select, update

from tenure.adapters.db.prebuilt import Prebuilt
from tenure.adapters.db.repositories.base import TENANT, TenantRepository, tenant
from tenure.adapters.db.repositories.standing import active_rows, collect_standing, standing_rows
from tenure.adapters.db.rows import to_membership, to_period
from tenure.adapters.db.tables import (
    attendance,
    membership_periods,
    memberships,
    notes,
    tasks,
)
from tenure.domain.membership import Membership, Period, Standing


class MembershipRepository(TenantRepository):
    """Memberships are inserted and updated, never deleted."""

    def get(
        self, membership_id: str, *, lock: bool = False, with_periods: bool = True
    ) -> Membership | None:
        stmt = select(memberships).where(
            self.scoped(memberships), memberships.c.id == membership_id
        )
        if lock:
            stmt = self._lock(stmt)
        row = self.conn.execute(stmt).first()
        if row is None:
            return None
        membership = to_membership(row)
        if with_periods:
            membership.periods = self.periods([membership.id])[membership.id]
        return membership

    def in_room(
        self, room_id: str, user_ids: Iterable[str], *, lock: bool = False
    ) -> dict[str, list[Membership]]:
        """Every membership (any status) the given people have in one room.

        Locked rows are taken in one order for everyone, so two requests on the same people
        queue up instead of deadlocking.
        """
        ids = list(set(user_ids))
        found: dict[str, list[Membership]] = {u: [] for u in ids}
        if not ids:
            return found
        stmt = _of_people(_every_row, self.dialect if lock else "")
        for row in self.run(stmt, room_id=room_id, user_ids=ids):
            found[row.user_id].append(to_membership(row))
        return found

    def standing(self, room_id: str, user_ids: Iterable[str]) -> dict[str, Standing]:
        """What a join needs of the people's memberships in one room (see
        :class:`Standing`), locked on PostgreSQL in the order ``in_room`` locks.

        Only the active and the latest ended membership are read and locked, however many a
        person has had. A restore that brings back an older one concurrently is caught by the
        one-active index, and the change is run again (``uow.retry_races``).
        """
        ids = list(set(user_ids))
        found = {u: Standing() for u in ids}
        if ids:
            stmt = _of_people(standing_rows, self.dialect)
            for row in self.run(stmt, room_id=room_id, user_ids=ids):
                collect_standing(found, row.user_id, row)
        return found

    def active_in(self, room_id: str, user_ids: Iterable[str]) -> dict[str, Membership]:
        """The people's active memberships in one room, where they have one: all a removal
        needs. Locked on PostgreSQL in the order ``in_room`` locks."""
        ids = list(set(user_ids))
        if not ids:
            return {}
        rows = self.run(_of_people(active_rows, self.dialect), room_id=room_id, user_ids=ids)
        return {row.user_id: to_membership(row) for row in rows}

    def of_users(self, user_ids: Iterable[str], *, status: str | None = None) -> list[Membership]:
        ids = list(set(user_ids))
        if not ids:
            return []
        stmt = select(memberships).where(self.scoped(memberships), memberships.c.user_id.in_(ids))
        if status:
            stmt = stmt.where(memberships.c.status == status)
        stmt = stmt.order_by(memberships.c.created_at, memberships.c.id)
        return [to_membership(r) for r in self.conn.execute(stmt)]

    def of_room(self, room_id: str, *, status: str) -> list[Membership]:
        return [to_membership(r) for r in self.run(_OF_ROOM, room_id=room_id, status=status)]

    def page(
        self,
        *,
        room_id: str | None = None,
        user_id: str | None = None,
        status: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Membership]:
        stmt = select(memberships).where(self.scoped(memberships))
        if room_id:
            stmt = stmt.where(memberships.c.room_id == room_id)
        if user_id:
            stmt = stmt.where(memberships.c.user_id == user_id)
        if status:
            stmt = stmt.where(memberships.c.status == status)
        if after:
            stmt = stmt.where(memberships.c.id > after)
        stmt = stmt.order_by(memberships.c.id).limit(limit)
        found = [to_membership(r) for r in self.conn.execute(stmt)]
        periods = self.periods([m.id for m in found])
        for m in found:
            m.periods = periods[m.id]
        return found

    def periods(self, membership_ids: Iterable[str]) -> dict[str, list[Period]]:
        ids = list(set(membership_ids))
        found: dict[str, list[Period]] = {m: [] for m in ids}
        if not ids:
            return found
        stmt = (
            select(membership_periods)
            .where(self.scoped(membership_periods), membership_periods.c.membership_id.in_(ids))
            .order_by(membership_periods.c.started_at, membership_periods.c.id)
        )
        for row in self.conn.execute(stmt):
            found[row.membership_id].append(to_period(row))
        return found

    def add_many(self, created: Sequence[Membership], request_id: str | None) -> None:
        """Insert new memberships with their first, open period. Held (``HeldWrites``): on
        PostgreSQL they go with the rest of the change, in one statement."""
        self.hold(_ADD, [self._created(m) for m in created])
        self.hold(_OPEN_PERIOD, [self._opened(m, request_id) for m in created])

    def save_many(self, changed: Sequence[Membership], request_id: str | None) -> None:
        """Persist status changes: close ended periods and open started ones. Held, as new
        memberships are."""
        self.hold(_SAVE, [self._saved(m) for m in changed])
        self.hold(_END_PERIOD, [self._ending(m, request_id) for m in changed if not m.is_active])
        self.hold(_OPEN_PERIOD, [self._opened(m, request_id) for m in changed if m.is_active])

    def save_source(self, m: Membership) -> None:
        self.conn.execute(
            update(memberships)
            .where(self.scoped(memberships), memberships.c.id == m.id)
            .values(source=m.source.value, version=memberships.c.version + 1)
        )

    def save_access(self, m: Membership) -> None:
        self.conn.execute(
            update(memberships)
            .where(self.scoped(memberships), memberships.c.id == m.id)
            .values(role=m.role.value, permissions=m.permissions, version=memberships.c.version + 1)
        )

    def version(self, membership_id: str) -> int:
        return int(
            self.conn.scalar(
                select(memberships.c.version).where(
                    self.scoped(memberships), memberships.c.id == membership_id
                )
            )
            or 0
        )

    def history_counts(self, membership_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """Meetings attended, notes written and tasks assigned, per membership."""
        ids = list(set(membership_ids))
        counts = {m: {"meetings": 0, "notes": 0, "tasks": 0} for m in ids}
        if not ids:
            return counts
        for key, table, column in (
            ("meetings", attendance, attendance.c.membership_id),
            ("notes", notes, notes.c.membership_id),
            ("tasks", tasks, tasks.c.assignee_membership_id),
        ):
            stmt = (
                select(column, func.count())
                .where(table.c.org_id == self.org_id, column.in_(ids))
                .group_by(column)
            )
            for membership_id, n in self.conn.execute(stmt):
                counts[membership_id][key] = int(n)
        return counts

    def ended_in_window(self, since: datetime) -> list[dict[str, Any]]:
        """IdP-ended periods since ``since``, with their room: the raw material of mass-removal."""
        stmt = (
            select(
                membership_periods.c.membership_id,
                membership_periods.c.ended_at,
                membership_periods.c.end_reason,
                membership_periods.c.end_request_id,
                memberships.c.room_id,
                memberships.c.user_id,
                memberships.c.status,
            )
            .join(memberships, memberships.c.id == membership_periods.c.membership_id)
            .where(
                self.scoped(membership_periods),
                membership_periods.c.ended_at >= since,
                membership_periods.c.end_reason.in_(
                    ["group_removal", "user_deactivated", "user_deleted", "group_deleted"]
                ),
            )
            .order_by(membership_periods.c.ended_at)
        )
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def active_counts_by_room(self, room_ids: Sequence[str] | None = None) -> dict[str, int]:
        """Active memberships per room: of the rooms named, or of every room."""
        stmt = (
            select(memberships.c.room_id, func.count())
            .where(self.scoped(memberships), memberships.c.status == "active")
            .group_by(memberships.c.room_id)
        )
        if room_ids is not None:
            if not room_ids:
                return {}
            stmt = stmt.where(memberships.c.room_id.in_(room_ids))
        return {room_id: int(n) for room_id, n in self.conn.execute(stmt)}

    # -- internals -----------------------------------------------------------------------

    def _state(self, m: Membership) -> dict[str, Any]:
        return {
            "status": m.status.value,
            "role": m.role.value,
            "permissions": m.permissions,
            "source": m.source.value,
            "last_started_at": m.last_started_at,
            "last_ended_at": m.last_ended_at,
            "last_end_reason": m.last_end_reason,
        }

    @staticmethod
    def _ender(m: Membership) -> str | None:
        return m.last_actor or "system:tenure"

    def _created(self, m: Membership) -> dict[str, Any]:
        return {
            "id": m.id,
            "org_id": self.org_id,
            "created_at": m.created_at,
            "version": 1,
            "room_id": m.room_id,
            "user_id": m.user_id,
        } | self._state(m)

    def _saved(self, m: Membership) -> dict[str, Any]:
        return {TENANT: self.org_id, "b_id": m.id} | {
            f"b_{k}": v for k, v in self._state(m).items()
        }

    def _ending(self, m: Membership, request_id: str | None) -> dict[str, Any]:
        """The parameters that close ``m``'s open period."""
        return {
            TENANT: self.org_id,
            "b_membership_id": m.id,
            "b_ended_at": m.last_ended_at,
            "b_end_reason": m.last_end_reason,
            "b_ended_by": self._ender(m),
            "b_end_request_id": request_id,
        }

    def _opened(self, m: Membership, request_id: str | None) -> dict[str, Any]:
        """The parameters of ``m``'s newest (open) period."""
        period = m.periods[-1]
        return {
            "org_id": self.org_id,
            "membership_id": m.id,
            "started_at": period.started_at,
            "start_reason": period.start_reason,
            "started_by": period.started_by,
            "start_request_id": request_id,
        }

    def relink(self, membership_id: str, user_id: str) -> None:
        """Point a membership at another record of the same person (restore across re-creation)."""
        self.conn.execute(
            update(memberships)
            .where(self.scoped(memberships), memberships.c.id == membership_id)
            .values(user_id=user_id, version=memberships.c.version + 1)
        )


# -- statements built once (see base.tenant) ----------------------------------------------

_STATE = (
    "status",
    "role",
    "permissions",
    "source",
    "last_started_at",
    "last_ended_at",
    "last_end_reason",
)
_ADD = Prebuilt(insert(memberships))
_SAVE = Prebuilt(
    update(memberships)
    .where(tenant(memberships), memberships.c.id == bindparam("b_id"))
    .values(
        version=memberships.c.version + 1,
        **{k: bindparam(f"b_{k}") for k in _STATE},
    )
)
_END_PERIOD = Prebuilt(
    update(membership_periods)
    .where(
        tenant(membership_periods),
        membership_periods.c.membership_id == bindparam("b_membership_id"),
        membership_periods.c.ended_at.is_(None),
    )
    .values(
        ended_at=bindparam("b_ended_at"),
        end_reason=bindparam("b_end_reason"),
        ended_by=bindparam("b_ended_by"),
        end_request_id=bindparam("b_end_request_id"),
    )
)


def _every_row(people: ColumnElement[bool]) -> Select[Any]:
    """Every membership (any status) of the people ``people`` picks in the room ``room_id``,
    in id order."""
    m = memberships
    return select(m).where(tenant(m), m.c.room_id == bindparam("room_id"), people).order_by(m.c.id)


@cache
def _of_people(rows: Callable[[ColumnElement[bool]], Select[Any]], dialect: str) -> Prebuilt:
    """``rows`` (:func:`standing_rows`, :func:`active_rows`, :func:`_every_row`) of the people
    ``user_ids``, locked on PostgreSQL (``dialect`` empty: read without a lock)."""
    stmt = rows(memberships.c.user_id.in_(bindparam("user_ids", expanding=True)))
    return Prebuilt(stmt.with_for_update(of=memberships) if dialect == "postgresql" else stmt)


_OPEN_PERIOD = Prebuilt(insert(membership_periods).inline())  # period ids are not read back
_OF_ROOM = Prebuilt(
    select(memberships).where(
        tenant(memberships),
        memberships.c.room_id == bindparam("room_id"),
        memberships.c.status == bindparam("status"),
    ),
    for_values=True,  # every membership of the room with one status: from one row to 20k
)
