"""Finding people (also deleted identities) and reading the audit log."""

from __future__ import annotations

from datetime import datetime
from operator import itemgetter
from typing import Any

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.directory import User
from tenure.domain.errors import InvalidInput, NotFound
from tenure.services.views import MembershipView, iso, membership_views, one_page


def user_dict(user: User, aliases: set[tuple[str, str]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": user.id,
        "userName": user.user_name,
        "externalId": user.external_id,
        "displayName": user.display_name,
        "emails": user.emails,
        "active": user.active,
        "deleted": user.is_deleted,
        "deleted_at": iso(user.deleted_at),
        "created_at": iso(user.created_at),
    }
    if aliases is not None:
        data["known_as"] = sorted({f"{kind}:{value}" for kind, value in aliases})
    return data


def identities(
    uow: SqlUnitOfWork,
    email: str | None = None,
    user_name: str | None = None,
    external_id: str | None = None,
) -> list[User]:
    """Every record, live or deleted, that was ever known by this e-mail, userName or externalId."""
    ids: list[str] = []
    for kind, value in (("email", email), ("userName", user_name), ("externalId", external_id)):
        if value:
            ids.extend(uow.users.ids_by_alias(kind, value))
    found = uow.users.get_many(dict.fromkeys(ids), include_deleted=True)
    return sorted(found, key=lambda u: (u.is_deleted, u.created_at), reverse=False)


def find_users(
    uow: SqlUnitOfWork, email: str | None, user_name: str | None = None
) -> list[dict[str, Any]]:
    if not email and not user_name:
        raise InvalidInput("give email or userName")
    with uow:
        found = identities(uow, email=email, user_name=user_name)
        aliases = uow.users.aliases([u.id for u in found])
        return [user_dict(u, aliases[u.id]) for u in found]


def get_user(uow: SqlUnitOfWork, user_id: str) -> dict[str, Any]:
    with uow:
        user = uow.users.get(user_id, include_deleted=True)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        return user_dict(user, uow.users.aliases([user.id])[user.id])


def related(uow: SqlUnitOfWork, user: User) -> list[User]:
    """This record and every other, live or deleted, that shares a userName, e-mail or
    externalId it ever had: one person across deletions and re-creations."""
    ids = {user.id}
    for kind, value in uow.users.aliases([user.id])[user.id]:
        ids.update(uow.users.ids_by_alias(kind, value))
    found = uow.users.get_many(ids, include_deleted=True)
    return sorted(found, key=lambda u: (u.is_deleted, u.created_at))


def person(
    uow: SqlUnitOfWork, user_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]], list[MembershipView]]:
    """A person by any of their records: the record, all their identities, every membership."""
    with uow:
        user = uow.users.get(user_id, include_deleted=True)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        people = related(uow, user)
        aliases = uow.users.aliases([u.id for u in people])
        views = membership_views(uow, uow.memberships.of_users([u.id for u in people]))
        return (
            user_dict(user, aliases[user.id]),
            [user_dict(u, aliases[u.id]) for u in people],
            views,
        )


def timeline(uow: SqlUnitOfWork, email: str) -> list[MembershipView]:
    """Every membership, in every room, of every identity this e-mail ever belonged to."""
    with uow:
        people = identities(uow, email=email)
        if not people:
            raise NotFound(f"nobody was ever known by {email!r}")
        return membership_views(uow, uow.memberships.of_users([u.id for u in people]))


def audit_page(
    uow: SqlUnitOfWork,
    *,
    action: str | None,
    resource_id: str | None,
    actor: str | None,
    request_id: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    before = None
    if cursor:
        # An audit entry's id: decimal digits that fit the column (64 bits).
        if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
            raise InvalidInput("cursor is not valid")
        before = int(cursor)
    with uow:
        rows = uow.audit.page(
            action=action,
            resource_id=resource_id,
            actor=actor,
            request_id=request_id,
            since=since,
            until=until,
            before_id=before,
            limit=limit + 1,
        )
    rows, after = one_page(rows, limit, itemgetter("id"))
    items = [
        {
            "id": r["id"],
            "at": iso(r["at"]),
            "actor": r["actor"],
            "action": r["action"],
            "resource_type": r["resource_type"],
            "resource_id": r["resource_id"],
            "request_id": r["request_id"],
            "detail": r["detail"],
        }
        for r in rows
    ]
    return items, after
