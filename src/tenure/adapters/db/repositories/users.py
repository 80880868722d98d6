"""Users of one organisation, with their e-mails and every name they were known by."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from tenure.adapters.db.prebuilt import Prebuilt
from tenure.adapters.db.repositories.base import TENANT, Bound, TenantRepository, tenant
from tenure.adapters.db.rows import to_user
from tenure.adapters.db.tables import group_members, groups, user_aliases, user_emails, users
from tenure.domain.directory import User
from tenure.domain.errors import Uniqueness


class UserRepository(TenantRepository):
    """Users, soft-deleted ones included where support needs them."""

    def get(
        self, user_id: str, *, include_deleted: bool = False, lock: bool = False
    ) -> User | None:
        row = self.by_id(users, user_id, include_deleted=include_deleted, lock=lock)
        return to_user(row) if row else None

    def get_with_groups(
        self, user_id: str, *, lock: bool = False
    ) -> tuple[User, list[tuple[str, str]]] | None:
        """A live user and its groups (the read-only ``groups``), in one statement: what a
        GET, a PATCH or a PUT of a user reads. ``lock`` locks the user's row, not its groups."""
        extra = (_groups_column(self.dialect),)
        row = self.by_id(users, user_id, lock=lock, extra=extra)
        return (to_user(row), _pairs(row._groups)) if row else None

    def get_many(self, user_ids: Iterable[str], *, include_deleted: bool = False) -> list[User]:
        ids = list(set(user_ids))
        if not ids:
            return []
        stmt = select(users).where(self.scoped(users), users.c.id.in_(ids))
        if not include_deleted:
            stmt = stmt.where(users.c.deleted_at.is_(None))
        return [to_user(r) for r in self.conn.execute(stmt)]

    def taken(self, user_name: str, external_id: str | None, exclude_id: str | None) -> str | None:
        """The attribute another live user already holds, if any (RFC 7643 §4.1 uniqueness)."""
        clauses = [users.c.user_name_ci == user_name.lower()]
        if external_id is not None:
            clauses.append(users.c.external_id == external_id)
        stmt = select(users.c.user_name_ci, users.c.external_id).where(
            self.scoped(users), users.c.deleted_at.is_(None), or_(*clauses)
        )
        if exclude_id is not None:
            stmt = stmt.where(users.c.id != exclude_id)
        row = self.conn.execute(stmt.limit(1)).first()
        if row is None:
            return None
        return "userName" if row.user_name_ci == user_name.lower() else "externalId"

    def add(self, user: User) -> None:
        """Insert a user and its e-mails, held back to go with the commit (one statement on
        PostgreSQL); the partial unique indexes answer for uniqueness, no look-up first."""
        row = {
            **self._values(user),
            "id": user.id,
            "org_id": self.org_id,
            "created_at": user.created_at,
        }
        self.hold(_INSERT, [row], _uniqueness(user))
        self._write_emails(user, replace=False)

    def update(self, user: User, previous: User) -> None:
        """Store the new description, held back to go with the commit; the names it replaces
        go to the user's aliases."""
        self.hold(_UPDATE, [self._changed(user)], _uniqueness(user))
        if previous.emails != user.emails or previous.profile.get("emails") != user.profile.get(
            "emails"
        ):
            self._write_emails(user, replace=True)
        self._remember(previous, previous.identity_keys() - user.identity_keys())

    def mark_deleted(self, user: User) -> None:
        self.hold(_UPDATE, [self._changed(user)])

    def search(
        self,
        where: ColumnElement[bool] | Bound | None,
        order_by: Sequence[Any],
        offset: int,
        limit: int,
        *,
        with_groups: bool = False,
    ) -> tuple[int, list[tuple[User, list[tuple[str, str]]]]]:
        """A page of live users, each with its groups when asked: one statement for a look-up."""
        extra = [_groups_column(self.dialect)] if with_groups else []
        total, rows = self.live_page(
            users, where, order_by, offset, limit, extra=extra, variant=with_groups
        )
        return total, [(to_user(r), _pairs(r._groups) if with_groups else []) for r in rows]

    def ids_by_alias(self, kind: str, value: str) -> list[str]:
        """Every user, deleted ones included, known now or before by this userName, e-mail or
        externalId (current values live on the user; earlier ones in ``user_aliases``)."""
        wanted = value.lower()
        past = select(user_aliases.c.user_id).where(
            self.scoped(user_aliases),
            user_aliases.c.kind == kind,
            user_aliases.c.value_ci == wanted,
        )
        if kind == "email":
            now = select(user_emails.c.user_id).where(
                self.scoped(user_emails), user_emails.c.value_ci == wanted
            )
        elif kind == "userName":
            now = select(users.c.id).where(self.scoped(users), users.c.user_name_ci == wanted)
        else:
            now = select(users.c.id).where(
                self.scoped(users), func.lower(users.c.external_id) == wanted
            )
        return list(dict.fromkeys(self.conn.scalars(now.union(past))))

    def aliases(self, user_ids: Iterable[str]) -> dict[str, set[tuple[str, str]]]:
        """Each user's names, now and before: (kind, lowercased value)."""
        ids = list(set(user_ids))
        found: dict[str, set[tuple[str, str]]] = {i: set() for i in ids}
        if not ids:
            return found
        stmt = select(user_aliases.c.user_id, user_aliases.c.kind, user_aliases.c.value_ci).where(
            self.scoped(user_aliases), user_aliases.c.user_id.in_(ids)
        )
        for row in self.conn.execute(stmt):
            found[row.user_id].add((row.kind, row.value_ci))
        for user in self.get_many(ids, include_deleted=True):
            found[user.id].update((kind, value.lower()) for kind, value in user.identity_keys())
        return found

    # -- internals -----------------------------------------------------------------------

    def _values(self, user: User) -> dict[str, Any]:
        return {
            "user_name": user.user_name,
            "user_name_ci": user.user_name.lower(),
            "external_id": user.external_id,
            "active": user.active,
            "display_name": user.display_name,
            "data": user.profile,
            "updated_at": user.updated_at,
            "version": user.version,
            "deleted_at": user.deleted_at,
        }

    def _changed(self, user: User) -> dict[str, Any]:
        """The parameters of :data:`_UPDATE` for ``user``."""
        return {TENANT: self.org_id, "b_id": user.id, **self._values(user)}

    def _write_emails(self, user: User, *, replace: bool) -> None:
        if replace:
            self.hold(_DELETE_EMAILS, [{TENANT: self.org_id, "b_user_id": user.id}])
        rows = [
            {
                "org_id": self.org_id,
                "user_id": user.id,
                "value": str(e["value"]),
                "value_ci": str(e["value"]).lower(),
                "type": e.get("type") if isinstance(e.get("type"), str) else None,
                "is_primary": e.get("primary") is True,
            }
            for e in user.profile.get("emails", [])
            if isinstance(e, dict) and isinstance(e.get("value"), str)
        ]
        self.hold(_INSERT_EMAILS, rows)

    def _remember(self, user: User, facts: set[tuple[str, str]]) -> None:
        """Keep names a user no longer has, so support can still find them by those."""
        rows = [
            {
                "org_id": self.org_id,
                "user_id": user.id,
                "kind": kind,
                "value_ci": value.lower(),
                "first_seen": user.updated_at,
            }
            for kind, value in sorted(facts)
        ]
        if not rows:
            return
        dialect_insert = pg_insert if self.on_postgresql else sqlite_insert
        stmt = dialect_insert(user_aliases).on_conflict_do_nothing(
            index_elements=["user_id", "kind", "value_ci"]
        )
        self.conn.execute(stmt, rows)


def _uniqueness(user: User) -> Callable[[IntegrityError], None]:
    """Explains a violated unique index on insert as RFC 7643's ``uniqueness``."""

    def explain(error: IntegrityError) -> None:
        text = str(error.orig).lower()
        if "user_name" in text:
            raise Uniqueness(
                f"userName {user.user_name!r} is already taken in this organisation"
            ) from None
        if "external_id" in text:
            raise Uniqueness(
                f"externalId {user.external_id!r} is already taken in this organisation"
            ) from None

    return explain


def _pairs(raw: Any) -> list[tuple[str, str]]:
    """Groups from the aggregated column: PostgreSQL hands back a list, SQLite JSON text."""
    if raw is None:
        return []
    items = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
    return sorted(((str(i), str(n)) for i, n in items), key=lambda p: p[1].lower())


# -- statements built once (see base.tenant) ----------------------------------------------

_INSERT = Prebuilt(insert(users))
_INSERT_EMAILS = Prebuilt(insert(user_emails).inline())  # ids are not read back
# Its SET clause is the columns a row of parameters names (``_values``), as for ``_INSERT``.
_UPDATE = Prebuilt(update(users).where(tenant(users), users.c.id == bindparam("b_id")))
_DELETE_EMAILS = Prebuilt(
    delete(user_emails).where(tenant(user_emails), user_emails.c.user_id == bindparam("b_user_id"))
)


@cache
def _groups_column(dialect: str) -> ColumnElement[Any]:
    """A user's groups as a JSON array of [id, displayName], aggregated in the query."""
    if dialect == "postgresql":
        pair = func.json_build_array(groups.c.id, groups.c.display_name)
        agg = func.json_agg(aggregate_order_by(pair, groups.c.display_name_ci))
    else:
        agg = func.json_group_array(func.json_array(groups.c.id, groups.c.display_name))
    return (
        select(agg)
        .select_from(group_members.join(groups, groups.c.id == group_members.c.group_id))
        .where(group_members.c.user_id == users.c.id, tenant(group_members))
        .correlate(users)
        .scalar_subquery()
        .label("_groups")
    )
