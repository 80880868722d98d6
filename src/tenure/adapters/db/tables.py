"""SQLAlchemy tables: the one description of the schema (migrations are generated from it)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
Id = String(36)
Seq = BigInteger().with_variant(Integer(), "sqlite")  # SQLite only autoincrements INTEGER keys
Moment = DateTime(timezone=True)


def _org() -> Column[str]:
    return Column("org_id", Id, ForeignKey("organisations.id"), nullable=False)


organisations = Table(
    "organisations",
    metadata,
    Column("id", Id, primary_key=True),
    Column("slug", String(80), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("readd_policy", String(20), nullable=False, server_default="reinstate"),
    Column("reinstate_window_days", Integer, nullable=False, server_default="90"),
    Column("self_service_restore", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", Moment, nullable=False),
)

scim_tokens = Table(
    "scim_tokens",
    metadata,
    Column("id", Id, primary_key=True),
    _org(),
    Column("label", String(200), nullable=False, server_default=""),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", Moment, nullable=False),
    Column("revoked_at", Moment),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("org_id", Id, ForeignKey("organisations.id")),  # null for platform support keys
    Column("role", String(20), nullable=False),
    Column("label", String(200), nullable=False, server_default=""),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", Moment, nullable=False),
    Column("revoked_at", Moment),
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    _org(),
    Column("user_name", String(512), nullable=False),
    Column("user_name_ci", String(512), nullable=False),
    Column("external_id", String(512)),
    Column("active", Boolean, nullable=False),
    Column("display_name", String(512)),
    Column("data", Json, nullable=False),
    Column("created_at", Moment, nullable=False),
    Column("updated_at", Moment, nullable=False),
    Column("version", Integer, nullable=False),
    Column("deleted_at", Moment),
    # RFC 7643 §4.1: userName is unique per service provider, case-insensitively; a deleted
    # record frees its userName and externalId for the IdP but stays for support.
    Index(
        "uq_users_live_user_name",
        "org_id",
        "user_name_ci",
        unique=True,
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
    Index(
        "uq_users_live_external_id",
        "org_id",
        "external_id",
        unique=True,
        sqlite_where=text("deleted_at IS NULL AND external_id IS NOT NULL"),
        postgresql_where=text("deleted_at IS NULL AND external_id IS NOT NULL"),
    ),
    Index("ix_users_org_order", "org_id", "created_at", "id"),
    Index("ix_users_org_external_id", "org_id", "external_id"),
)

user_emails = Table(
    "user_emails",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    _org(),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("value", String(512), nullable=False),
    Column("value_ci", String(512), nullable=False),
    Column("type", String(64)),
    Column("is_primary", Boolean, nullable=False, server_default=text("false")),
    Index("ix_user_emails_org_value", "org_id", "value_ci"),
)

# Every userName, e-mail and externalId a user ever had: how support finds a person again.
user_aliases = Table(
    "user_aliases",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    _org(),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value_ci", String(512), nullable=False),
    Column("first_seen", Moment, nullable=False),
    UniqueConstraint("user_id", "kind", "value_ci"),
    Index("ix_user_aliases_lookup", "org_id", "kind", "value_ci"),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Id, primary_key=True),
    _org(),
    Column("display_name", String(512), nullable=False),
    Column("display_name_ci", String(512), nullable=False),
    Column("external_id", String(512)),
    Column("data", Json, nullable=False),
    Column("member_count", Integer, nullable=False, server_default="0"),
    Column("created_at", Moment, nullable=False),
    Column("updated_at", Moment, nullable=False),
    Column("version", Integer, nullable=False),
    Column("deleted_at", Moment),
    Index(
        "uq_groups_live_display_name",
        "org_id",
        "display_name_ci",
        unique=True,
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
    Index("ix_groups_org_order", "org_id", "created_at", "id"),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", Id, ForeignKey("groups.id"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    _org(),
    Column("added_at", Moment, nullable=False),
    Index("ix_group_members_user", "org_id", "user_id"),
)

# Member ids an IdP pushed that name no user of the organisation: kept for support, never fatal.
unknown_members = Table(
    "unknown_members",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    _org(),
    Column("group_id", Id, ForeignKey("groups.id"), nullable=False),
    Column("value", String(512), nullable=False),
    Column("request_id", String(64)),
    Column("seen_at", Moment, nullable=False),
    Index("ix_unknown_members_org", "org_id", "seen_at"),
)

rooms = Table(
    "rooms",
    metadata,
    Column("id", Id, primary_key=True),
    _org(),
    Column("name", String(512), nullable=False),
    Column("group_id", Id, ForeignKey("groups.id"), unique=True),
    Column("readd_policy", String(20)),
    Column("reinstate_window_days", Integer),
    Column("default_role", String(20), nullable=False, server_default="member"),
    Column("created_at", Moment, nullable=False),
    Index("ix_rooms_org_name", "org_id", "name"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", Id, primary_key=True),
    _org(),
    Column("room_id", Id, ForeignKey("rooms.id"), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("role", String(20), nullable=False),
    Column("permissions", Json, nullable=False),
    Column("source", String(10), nullable=False),
    Column("created_at", Moment, nullable=False),
    Column("last_started_at", Moment),
    Column("last_ended_at", Moment),
    Column("last_end_reason", String(40)),
    Column("version", Integer, nullable=False, server_default="1"),
    # At most one active membership per person and room, whatever the number of processes.
    Index(
        "uq_memberships_active",
        "room_id",
        "user_id",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
    Index("ix_memberships_room_user", "room_id", "user_id"),
    Index("ix_memberships_user", "org_id", "user_id"),
)

membership_periods = Table(
    "membership_periods",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    _org(),
    Column("membership_id", Id, ForeignKey("memberships.id"), nullable=False, index=True),
    Column("started_at", Moment, nullable=False),
    Column("start_reason", String(40), nullable=False),
    Column("started_by", String(120), nullable=False),
    Column("start_request_id", String(64)),
    Column("ended_at", Moment),
    Column("end_reason", String(40)),
    Column("ended_by", String(120)),
    Column("end_request_id", String(64)),
    Index("ix_membership_periods_end", "org_id", "ended_at"),
    # A membership has at most one open period: its current one. Closing it (every removal)
    # finds it through this index whatever the planner knows of the table's size.
    Index(
        "uq_membership_periods_open",
        "membership_id",
        unique=True,
        sqlite_where=text("ended_at IS NULL"),
        postgresql_where=text("ended_at IS NULL"),
    ),
)

meetings = Table(
    "meetings",
    metadata,
    Column("id", Id, primary_key=True),
    _org(),
    Column("room_id", Id, ForeignKey("rooms.id"), nullable=False, index=True),
    Column("title", String(512), nullable=False),
    Column("starts_at", Moment, nullable=False),
    Column("created_at", Moment, nullable=False),
)

attendance = Table(
    "attendance",
    metadata,
    Column("id", Id, primary_key=True),
    _org(),
    Column("meeting_id", Id, ForeignKey("meetings.id"), nullable=False),
    Column("membership_id", Id, ForeignKey("memberships.id"), nullable=False, index=True),
    Column("recorded_at", Moment, nullable=False),
    UniqueConstraint("meeting_id", "membership_id"),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Id, primary_key=True),
    _org(),
    Column("meeting_id", Id, ForeignKey("meetings.id"), nullable=False, index=True),
    Column("membership_id", Id, ForeignKey("memberships.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("created_at", Moment, nullable=False),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Id, primary_key=True),
    _org(),
    Column("room_id", Id, ForeignKey("rooms.id"), nullable=False, index=True),
    Column("title", String(512), nullable=False),
    Column("assignee_membership_id", Id, ForeignKey("memberships.id"), index=True),
    Column("status", String(20), nullable=False, server_default="open"),
    Column("created_at", Moment, nullable=False),
)

restores = Table(
    "restores",
    metadata,
    Column("id", Id, primary_key=True),
    _org(),
    Column("room_id", Id, ForeignKey("rooms.id"), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("deactivated_id", Id, ForeignKey("memberships.id")),
    Column("reactivated_id", Id, ForeignKey("memberships.id"), nullable=False),
    Column("merge", Boolean, nullable=False),
    Column("moved", Json, nullable=False),
    Column("relinked_from_user_id", Id),
    Column("status", String(10), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("before", Json, nullable=False),
    Column("after", Json, nullable=False),
    Column("batch_id", String(64)),
    Column("created_at", Moment, nullable=False),
    Column("undone_at", Moment),
    Index("ix_restores_org", "org_id", "created_at"),
)

restore_requests = Table(
    "restore_requests",
    metadata,
    Column("id", Id, primary_key=True),
    _org(),
    Column("email", String(512), nullable=False),
    Column("room_id", Id, ForeignKey("rooms.id"), nullable=False),
    Column("removed_at", Moment),
    Column("readded_at", Moment),
    Column("note", Text, nullable=False, server_default=""),
    Column("status", String(10), nullable=False),
    Column("requested_by", String(120), nullable=False),
    Column("decided_by", String(120)),
    Column("decided_at", Moment),
    Column("decision_reason", Text),
    Column("restore_id", Id, ForeignKey("restores.id")),
    Column("created_at", Moment, nullable=False),
    Index("ix_restore_requests_org", "org_id", "status", "created_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id")),
    Column("at", Moment, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("action", String(60), nullable=False),
    Column("resource_type", String(40), nullable=False),
    Column("resource_id", String(64), nullable=False),
    Column("request_id", String(64)),
    Column("detail", Json, nullable=False),
    Index("ix_audit_org_id", "org_id", "id"),
    Index("ix_audit_org_resource", "org_id", "resource_id"),
)
