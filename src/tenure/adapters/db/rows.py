"""Row ↔ domain conversions shared by the repositories."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row

from tenure.domain.clock import as_utc
from tenure.domain.directory import Group, Room, User
from tenure.domain.membership import Membership, Period, Role, Source, Status
from tenure.domain.organisation import Organisation, ReaddPolicy


def _utc(value: Any) -> Any:
    return as_utc(value) if value is not None else None


def to_org(row: Row[Any]) -> Organisation:
    return Organisation(
        id=row.id,
        slug=row.slug,
        name=row.name,
        readd_policy=ReaddPolicy(row.readd_policy),
        reinstate_window_days=row.reinstate_window_days,
        self_service_restore=bool(row.self_service_restore),
    )


def to_user(row: Row[Any], emails: list[str] | None = None) -> User:
    data = row.data
    if emails is None:
        emails = [
            e["value"] for e in data.get("emails", []) if isinstance(e, dict) and "value" in e
        ]
    return User(
        id=row.id,
        user_name=row.user_name,
        external_id=row.external_id,
        active=bool(row.active),
        display_name=row.display_name,
        emails=emails,
        profile=data,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        version=row.version,
        deleted_at=_utc(row.deleted_at),
    )


def to_group(row: Row[Any]) -> Group:
    return Group(
        id=row.id,
        display_name=row.display_name,
        external_id=row.external_id,
        profile=row.data,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        version=row.version,
        deleted_at=_utc(row.deleted_at),
        member_count=row.member_count,
    )


def to_room(row: Row[Any]) -> Room:
    return Room(
        id=row.id,
        name=row.name,
        group_id=row.group_id,
        created_at=as_utc(row.created_at),
        readd_policy=row.readd_policy,
        reinstate_window_days=row.reinstate_window_days,
        default_role=Role(row.default_role),
    )


def to_membership(row: Row[Any]) -> Membership:
    return Membership(
        id=row.id,
        room_id=row.room_id,
        user_id=row.user_id,
        role=Role(row.role),
        permissions=list(row.permissions),
        source=Source(row.source),
        status=Status(row.status),
        created_at=as_utc(row.created_at),
        last_started_at=_utc(row.last_started_at),
        last_ended_at=_utc(row.last_ended_at),
        last_end_reason=row.last_end_reason,
    )


def to_period(row: Row[Any]) -> Period:
    return Period(
        id=row.id,
        started_at=as_utc(row.started_at),
        start_reason=row.start_reason,
        started_by=row.started_by,
        ended_at=_utc(row.ended_at),
        end_reason=row.end_reason,
        ended_by=row.ended_by,
    )


def plain(row: Row[Any]) -> dict[str, Any]:
    """A row as a dict for the edges: no tenant column, datetimes in UTC."""
    data = dict(row._mapping)
    data.pop("org_id", None)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = as_utc(value)
    return data
