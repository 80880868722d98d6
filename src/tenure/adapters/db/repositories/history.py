"""Meetings, attendance, private notes and tasks: the history a membership carries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from tenure.adapters.db.repositories.base import TenantRepository
from tenure.adapters.db.rows import plain
from tenure.adapters.db.tables import attendance, meetings, notes, tasks
from tenure.domain.ids import new_id


class HistoryRepository(TenantRepository):
    """History rows move between memberships on restore; they are never deleted."""

    def add_meeting(
        self, meeting_id: str, room_id: str, title: str, starts_at: datetime, at: datetime
    ) -> None:
        self.conn.execute(
            insert(meetings).values(
                id=meeting_id,
                org_id=self.org_id,
                room_id=room_id,
                title=title,
                starts_at=starts_at,
                created_at=at,
            )
        )

    def meeting(self, meeting_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            select(meetings).where(self.scoped(meetings), meetings.c.id == meeting_id)
        ).first()
        return plain(row) if row else None

    def meetings_of_room(self, room_id: str) -> list[dict[str, Any]]:
        stmt = select(meetings).where(self.scoped(meetings), meetings.c.room_id == room_id)
        return [plain(r) for r in self.conn.execute(stmt.order_by(meetings.c.starts_at))]

    def attended(self, meeting_id: str, membership_id: str) -> bool:
        stmt = select(attendance.c.id).where(
            self.scoped(attendance),
            attendance.c.meeting_id == meeting_id,
            attendance.c.membership_id == membership_id,
        )
        return self.conn.execute(stmt).first() is not None

    def add_attendance(
        self, row_id: str, meeting_id: str, membership_id: str, at: datetime
    ) -> None:
        self.conn.execute(
            insert(attendance).values(
                id=row_id,
                org_id=self.org_id,
                meeting_id=meeting_id,
                membership_id=membership_id,
                recorded_at=at,
            )
        )

    def attendance_of(self, meeting_id: str) -> list[dict[str, Any]]:
        stmt = select(attendance).where(
            self.scoped(attendance), attendance.c.meeting_id == meeting_id
        )
        return [plain(r) for r in self.conn.execute(stmt.order_by(attendance.c.recorded_at))]

    def add_note(
        self, note_id: str, meeting_id: str, membership_id: str, text: str, at: datetime
    ) -> None:
        self.conn.execute(
            insert(notes).values(
                id=note_id,
                org_id=self.org_id,
                meeting_id=meeting_id,
                membership_id=membership_id,
                text=text,
                created_at=at,
            )
        )

    def notes_of(self, meeting_id: str) -> list[dict[str, Any]]:
        stmt = select(notes).where(self.scoped(notes), notes.c.meeting_id == meeting_id)
        return [plain(r) for r in self.conn.execute(stmt.order_by(notes.c.created_at))]

    def add_task(
        self, task_id: str, room_id: str, title: str, assignee: str | None, at: datetime
    ) -> None:
        self.conn.execute(
            insert(tasks).values(
                id=task_id,
                org_id=self.org_id,
                room_id=room_id,
                title=title,
                assignee_membership_id=assignee,
                status="open",
                created_at=at,
            )
        )

    def tasks_of_room(self, room_id: str) -> list[dict[str, Any]]:
        stmt = select(tasks).where(self.scoped(tasks), tasks.c.room_id == room_id)
        return [plain(r) for r in self.conn.execute(stmt.order_by(tasks.c.created_at))]

    # -- moving history between memberships (restore and its undo) -------------------------

    def item_ids(self, membership_id: str) -> dict[str, list[str]]:
        """Ids of the history rows a membership carries, by kind."""
        return {
            "attendance": list(
                self.conn.scalars(
                    select(attendance.c.id).where(
                        self.scoped(attendance), attendance.c.membership_id == membership_id
                    )
                )
            ),
            "notes": list(
                self.conn.scalars(
                    select(notes.c.id).where(
                        self.scoped(notes), notes.c.membership_id == membership_id
                    )
                )
            ),
            "tasks": list(
                self.conn.scalars(
                    select(tasks.c.id).where(
                        self.scoped(tasks), tasks.c.assignee_membership_id == membership_id
                    )
                )
            ),
        }

    def clashing_attendance(self, source: str, target: str) -> list[str]:
        """Attendance of ``source`` at meetings ``target`` attended too (it stays on source)."""
        target_meetings = select(attendance.c.meeting_id).where(
            self.scoped(attendance), attendance.c.membership_id == target
        )
        stmt = select(attendance.c.id).where(
            self.scoped(attendance),
            attendance.c.membership_id == source,
            attendance.c.meeting_id.in_(target_meetings),
        )
        return list(self.conn.scalars(stmt))

    def move(self, items: Mapping[str, Sequence[str]], target: str) -> None:
        """Re-point the given history rows at ``target``: a set-based update per kind."""
        for kind, table, column in (
            ("attendance", attendance, "membership_id"),
            ("notes", notes, "membership_id"),
            ("tasks", tasks, "assignee_membership_id"),
        ):
            ids = list(items.get(kind, ()))
            for start in range(0, len(ids), 5000):
                chunk = ids[start : start + 5000]
                self.conn.execute(
                    update(table)
                    .where(self.scoped(table), table.c.id.in_(chunk))
                    .values({column: target})
                )

    def owners(self, items: Mapping[str, Sequence[str]]) -> set[str]:
        """The memberships that now hold the given rows (to check an undo is still exact)."""
        found: set[str] = set()
        for kind, table, column in (
            ("attendance", attendance, attendance.c.membership_id),
            ("notes", notes, notes.c.membership_id),
            ("tasks", tasks, tasks.c.assignee_membership_id),
        ):
            ids = list(items.get(kind, ()))
            for start in range(0, len(ids), 5000):
                chunk = ids[start : start + 5000]
                found.update(
                    self.conn.scalars(
                        select(column).where(self.scoped(table), table.c.id.in_(chunk)).distinct()
                    )
                )
        return found

    def bulk_history(self, room_id: str, membership_id: str, n: int, at: datetime) -> None:
        """Seed ``n`` history items quickly (benchmarks and demos)."""
        meeting_rows = [
            {
                "id": new_id(),
                "org_id": self.org_id,
                "room_id": room_id,
                "title": f"Meeting {i}",
                "starts_at": at,
                "created_at": at,
            }
            for i in range(n // 3 + 1)
        ]
        self.conn.execute(insert(meetings), meeting_rows)
        self.conn.execute(
            insert(attendance),
            [
                {
                    "id": new_id(),
                    "org_id": self.org_id,
                    "meeting_id": m["id"],
                    "membership_id": membership_id,
                    "recorded_at": at,
                }
                for i, m in enumerate(meeting_rows[: n // 3])
            ],
        )
        self.conn.execute(
            insert(notes),
            [
                {
                    "id": new_id(),
                    "org_id": self.org_id,
                    "meeting_id": meeting_rows[0]["id"],
                    "membership_id": membership_id,
                    "text": "note",
                    "created_at": at,
                }
                for i in range(n // 3)
            ],
        )
        self.conn.execute(
            insert(tasks),
            [
                {
                    "id": new_id(),
                    "org_id": self.org_id,
                    "room_id": room_id,
                    "title": "task",
                    "assignee_membership_id": membership_id,
                    "status": "open",
                    "created_at": at,
                }
                for i in range(n - 2 * (n // 3))
            ],
        )
