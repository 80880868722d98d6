"""Provisioning users: create, replace, update, disable and delete, as the IdP asks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.audit import AuditAction, AuditEntry
from tenure.domain.clock import utcnow
from tenure.domain.directory import User, entra_soft_delete_original
from tenure.domain.errors import NotFound, Uniqueness
from tenure.domain.ids import new_id
from tenure.domain.membership import EndReason
from tenure.domain.versions import check_if_match
from tenure.services import lifecycle


@dataclass(frozen=True, slots=True)
class UserData:
    """A user as the IdP describes it, already validated at the edge."""

    user_name: str
    external_id: str | None
    active: bool | None  # None: not sent (a PUT that leaves ``active`` alone)
    display_name: str | None
    emails: list[str]
    profile: dict[str, Any]


@dataclass(frozen=True, slots=True)
class UserView:
    user: User
    groups: list[tuple[str, str]] = field(default_factory=list)


def _check_unique(uow: SqlUnitOfWork, data: UserData, exclude: str | None) -> None:
    taken = uow.users.taken(data.user_name, data.external_id, exclude)
    if taken == "userName":
        raise Uniqueness(f"userName {data.user_name!r} is already taken in this organisation")
    if taken == "externalId":
        raise Uniqueness(f"externalId {data.external_id!r} is already taken in this organisation")


def create_user(uow: SqlUnitOfWork, data: UserData) -> UserView:
    """A new user; 409 ``uniqueness`` if the userName or externalId is taken."""
    now = utcnow()
    with uow:
        active = True if data.active is None else data.active
        profile = {**data.profile, "active": active}
        user = User(
            id=new_id(),
            user_name=data.user_name,
            external_id=data.external_id,
            active=active,
            display_name=data.display_name,
            emails=data.emails,
            profile=profile,
            created_at=now,
            updated_at=now,
        )
        uow.users.add(user)
        uow.audit.add(
            AuditEntry(
                AuditAction.SCIM_USER_CREATE,
                uow.actor,
                "User",
                user.id,
                uow.request_id,
                now,
                {"userName": user.user_name, "externalId": user.external_id},
            )
        )
        uow.commit()
    return UserView(user)


def get_user(uow: SqlUnitOfWork, user_id: str) -> UserView:
    with uow:
        found = uow.users.get_with_groups(user_id)
        if found is None:
            raise NotFound(f"User {user_id} not found")
        return UserView(*found)


def replace_user(
    uow: SqlUnitOfWork, user_id: str, data: UserData, if_match: str | None = None
) -> UserView:
    """PUT: the IdP's full description replaces the stored one (``active`` kept if absent)."""
    return _change(uow, user_id, lambda _user: data, AuditAction.SCIM_USER_REPLACE, if_match)


def patch_user(
    uow: SqlUnitOfWork,
    user_id: str,
    patcher: Callable[[User], UserData],
    if_match: str | None = None,
) -> UserView:
    """PATCH: ``patcher`` turns the stored user into the new description."""
    return _change(uow, user_id, patcher, AuditAction.SCIM_USER_UPDATE, if_match)


def _change(
    uow: SqlUnitOfWork,
    user_id: str,
    build: Callable[[User], UserData],
    action: AuditAction,
    if_match: str | None,
) -> UserView:
    now = utcnow()
    with uow:
        found = uow.users.get_with_groups(user_id, lock=True)
        if found is None:
            raise NotFound(f"User {user_id} not found")
        user, groups = found
        check_if_match(user.version, if_match, "user")
        data = build(user)
        was_active = user.active
        active = was_active if data.active is None else data.active
        changed_identity = data.user_name != user.user_name or data.external_id != user.external_id
        if changed_identity:
            _check_unique(uow, data, user.id)
        renamed_by_entra = (
            data.user_name != user.user_name
            and entra_soft_delete_original(data.user_name) == user.user_name
        )
        updated = replace(
            user,
            user_name=data.user_name,
            external_id=data.external_id,
            active=active,
            display_name=data.display_name,
            emails=data.emails,
            # A PATCH that removes ``active`` leaves it unassigned (RFC 7644 §3.5.2.2): not echoed.
            profile={
                **data.profile,
                **(
                    {}
                    if data.active is not None and "active" not in data.profile
                    else {"active": active}
                ),
            },
            updated_at=now,
            version=user.version + 1,
        )
        if updated.profile == user.profile and updated.user_name == user.user_name:
            return UserView(user, groups)  # nothing changed
        uow.users.update(updated, previous=user)
        detail: dict[str, Any] = {}
        if changed_identity:
            detail.update(previous_userName=user.user_name, userName=updated.user_name)
        if renamed_by_entra:
            detail["entra_soft_delete_rename"] = True
        if was_active != active:
            detail["active"] = active
        uow.audit.add(AuditEntry(action, uow.actor, "User", user.id, uow.request_id, now, detail))
        if was_active and not active:
            uow.audit.add(
                AuditEntry(
                    AuditAction.SCIM_USER_DEACTIVATE,
                    uow.actor,
                    "User",
                    user.id,
                    uow.request_id,
                    now,
                    {},
                )
            )
            lifecycle.user_left(uow, user.id, EndReason.USER_DEACTIVATED, now)
        elif active and not was_active:
            uow.audit.add(
                AuditEntry(
                    AuditAction.SCIM_USER_REACTIVATE,
                    uow.actor,
                    "User",
                    user.id,
                    uow.request_id,
                    now,
                    {},
                )
            )
            lifecycle.user_returned(uow, user.id, now)
        uow.commit()
    return UserView(updated, groups)


def delete_user(uow: SqlUnitOfWork, user_id: str, if_match: str | None = None) -> None:
    """Soft delete: gone for the IdP (404, names free again), kept with its history for support."""
    now = utcnow()
    with uow:
        user = uow.users.get(user_id, lock=True)
        if user is None:
            raise NotFound(f"User {user_id} not found")
        check_if_match(user.version, if_match, "user")
        deleted = replace(user, deleted_at=now, updated_at=now, version=user.version + 1)
        uow.users.mark_deleted(deleted)
        groups = uow.groups.remove_user_everywhere(user.id)
        lifecycle.user_left(uow, user.id, EndReason.USER_DELETED, now)
        uow.audit.add(
            AuditEntry(
                AuditAction.SCIM_USER_DELETE,
                uow.actor,
                "User",
                user.id,
                uow.request_id,
                now,
                {"userName": user.user_name, "groups": groups},
            )
        )
        uow.commit()


def search_users(
    uow: SqlUnitOfWork,
    where: Any,
    order_by: list[Any],
    offset: int,
    limit: int,
    *,
    with_groups: bool = True,
) -> tuple[int, list[UserView]]:
    """A page of users matching a condition built at the SCIM edge (always tenant-scoped)."""
    with uow:
        total, found = uow.users.search(where, order_by, offset, limit, with_groups=with_groups)
        return total, [UserView(user, groups) for user, groups in found]
