"""Restore: make a removed member whole again — preview, execute atomically, undo."""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.audit import AuditAction, AuditEntry
from tenure.domain.clock import utcnow
from tenure.domain.directory import Room, User
from tenure.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from tenure.domain.ids import cursor_id, new_id
from tenure.domain.membership import EndReason, Membership, Source, StartReason
from tenure.domain.restore import RestorePlan, choose_target
from tenure.services.directory import identities
from tenure.services.views import iso, one_page


@dataclass(frozen=True, slots=True)
class RestoreCommand:
    room_id: str
    user_id: str | None = None
    email: str | None = None
    membership_id: str | None = None
    merge: bool = True
    reason: str = ""
    batch_id: str | None = None


def _person(uow: SqlUnitOfWork, cmd: RestoreCommand) -> tuple[User, list[User]]:
    """The current identity and every earlier record of the same person."""
    if cmd.user_id:
        user = uow.users.get(cmd.user_id, include_deleted=True)
        if user is None:
            raise NotFound(f"user {cmd.user_id} not found")
    elif cmd.email:
        live = [u for u in identities(uow, email=cmd.email) if not u.is_deleted]
        if not live:
            raise NotFound(f"no current account is known by {cmd.email!r}")
        user = max(live, key=lambda u: u.created_at)
    else:
        raise InvalidInput("give user_id or email")
    aliases = uow.users.aliases([user.id])[user.id]
    earlier: dict[str, User] = {}
    for kind, value in aliases:
        for candidate in uow.users.get_many(
            uow.users.ids_by_alias(kind, value), include_deleted=True
        ):
            if candidate.id != user.id and candidate.is_deleted:
                earlier[candidate.id] = candidate
    return user, [user, *earlier.values()]


def _plan(uow: SqlUnitOfWork, cmd: RestoreCommand, *, lock: bool) -> RestorePlan:
    room = uow.rooms.get(cmd.room_id)
    if room is None:
        raise NotFound(f"room {cmd.room_id} not found")
    user, people = _person(uow, cmd)
    by_user = uow.memberships.in_room(room.id, [p.id for p in people], lock=lock)
    memberships = [m for ms in by_user.values() for m in ms]
    counts = uow.memberships.history_counts([m.id for m in memberships])
    target = choose_target(memberships, counts, cmd.membership_id)
    current = next((m for m in by_user.get(user.id, []) if m.is_active), None)
    in_group, group_name = _group_state(uow, room, user)
    items = uow.history.item_ids(current.id) if current else {}
    clashes = uow.history.clashing_attendance(current.id, target.id) if current else []
    return RestorePlan.build(
        room=room,
        user=user,
        target=target,
        current=current,
        counts=counts,
        merge=cmd.merge,
        current_items=items,
        clashes=clashes,
        in_group=in_group,
        group_name=group_name,
    )


def _group_state(uow: SqlUnitOfWork, room: Room, user: User) -> tuple[bool | None, str | None]:
    if room.group_id is None:
        return None, None
    group = uow.groups.get(room.group_id)
    return bool(uow.groups.present(room.group_id, [user.id])), group.display_name if group else None


def authorize(uow: SqlUnitOfWork, role: str | None) -> None:
    """Refuse a direct restore by an org admin unless the organisation allows self-service.

    Every restore and undo checks this inside its own transaction too; edges call it first
    only to show the right choice (restore, or file a request).
    """
    with uow:
        _check_allowed(uow, role)


def _check_allowed(uow: SqlUnitOfWork, role: str | None) -> None:
    if uow.actor.kind in ("cli", "system"):
        return  # an operator on the server itself
    org = uow.platform.org(uow.org_id)
    if org is None or not org.may_restore_directly(role or ""):
        raise Forbidden(
            "this organisation does not allow admins to restore directly: "
            "file a restore request (POST /api/v1/restore-requests) for support"
        )


def preview(uow: SqlUnitOfWork, cmd: RestoreCommand) -> dict[str, Any]:
    """The dry run: the plan, nothing changed."""
    with uow:
        return {"dry_run": True, "plan": _plan(uow, cmd, lock=False).as_dict()}


def restore(uow: SqlUnitOfWork, cmd: RestoreCommand) -> dict[str, Any]:
    """Execute: A inactive, B active with a new period, history moved, B re-linked, audited."""
    now = utcnow()
    actor = str(uow.actor)
    with uow:
        result = _execute(uow, cmd, now, actor)
        uow.commit()
    return result


def _execute(uow: SqlUnitOfWork, cmd: RestoreCommand, now: Any, actor: str) -> dict[str, Any]:
    _check_allowed(uow, uow.actor.role)
    plan = _plan(uow, cmd, lock=True)
    a, b = plan.current, plan.target
    before = plan.as_dict()
    changed: list[Membership] = []
    if a is not None:
        a.deactivate(EndReason.SUPERSEDED_BY_RESTORE, actor, now)
        uow.memberships.save_many([a], uow.request_id)  # first, so B may become the active one
    if plan.relink_from:
        uow.memberships.relink(b.id, plan.user.id)
        b.user_id = plan.user.id
    b.activate(StartReason.RESTORED, actor, now)
    b.source = Source.RESTORE
    changed.append(b)
    uow.memberships.save_many(changed, uow.request_id)
    if a is not None and plan.merge:
        uow.history.move(plan.moves, b.id)
    restore_id = new_id()
    moved = (
        {k: len(v) for k, v in plan.moves.items()}
        if a is not None and plan.merge
        else {"attendance": 0, "notes": 0, "tasks": 0}
    )
    after = {
        "a": {"id": a.id, "status": a.status.value, "version": uow.memberships.version(a.id)}
        if a
        else None,
        "b": {
            "id": b.id,
            "status": b.status.value,
            "user_id": b.user_id,
            "version": uow.memberships.version(b.id),
        },
    }
    uow.restores.add(
        {
            "id": restore_id,
            "room_id": plan.room.id,
            "user_id": plan.user.id,
            "deactivated_id": a.id if a else None,
            "reactivated_id": b.id,
            "merge": plan.merge,
            "moved": plan.moves if plan.merge else {},
            "relinked_from_user_id": plan.relink_from,
            "status": "done",
            "actor": actor,
            "reason": cmd.reason,
            "before": before,
            "after": after,
            "batch_id": cmd.batch_id,
            "created_at": now,
        }
    )
    uow.audit.add(
        AuditEntry(
            AuditAction.SUPPORT_MEMBERSHIP_RESTORE,
            uow.actor,
            "Membership",
            b.id,
            uow.request_id,
            now,
            {
                "restore_id": restore_id,
                "room_id": plan.room.id,
                "user_id": plan.user.id,
                "reason": cmd.reason,
                "deactivated": a.id if a else None,
                "reactivated": b.id,
                "moved": moved,
                "before": before,
                "after": after,
            },
        )
    )
    return _record(uow.restores.get(restore_id))


def _record(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        raise NotFound("restore not found")
    moved = row["moved"] or {}
    return {
        "id": row["id"],
        "status": row["status"],
        "room_id": row["room_id"],
        "user_id": row["user_id"],
        "deactivated": row["deactivated_id"],
        "reactivated": row["reactivated_id"],
        "merge": row["merge"],
        "moved": {k: len(moved.get(k, [])) for k in ("attendance", "notes", "tasks")},
        "relinked_from_user_id": row["relinked_from_user_id"],
        "actor": row["actor"],
        "reason": row["reason"],
        "batch_id": row["batch_id"],
        "created_at": iso(row["created_at"]),
        "undone_at": iso(row["undone_at"]),
        "plan": row["before"],
    }


def get_restore(uow: SqlUnitOfWork, restore_id: str) -> dict[str, Any]:
    with uow:
        return _record(uow.restores.get(restore_id))


def list_restores(
    uow: SqlUnitOfWork, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    before = cursor_id(cursor)
    with uow:
        read = uow.restores.page(before=before, limit=limit + 1)
    rows, after = one_page(read, limit, itemgetter("id"))
    return [_record(r) for r in rows], after


def undo(uow: SqlUnitOfWork, restore_id: str, reason: str = "") -> dict[str, Any]:
    """Reverse exactly what a restore did, if nothing changed since; otherwise 409 saying what."""
    now = utcnow()
    actor = str(uow.actor)
    with uow:
        _check_allowed(uow, uow.actor.role)
        row = uow.restores.get(restore_id, lock=True)
        if row is None:
            raise NotFound(f"restore {restore_id} not found")
        if row["status"] != "done":
            raise Conflict("this restore was already undone")
        after = row["after"]
        b = uow.memberships.get(row["reactivated_id"], lock=True)
        a = uow.memberships.get(row["deactivated_id"], lock=True) if row["deactivated_id"] else None
        assert b is not None
        changes = []
        if uow.memberships.version(b.id) != after["b"]["version"]:
            changes.append(
                f"the restored membership changed since ({b.status.value}, "
                f"last change {iso(b.last_ended_at or b.last_started_at)})"
            )
        if a is not None and after["a"] and uow.memberships.version(a.id) != after["a"]["version"]:
            changes.append(f"the superseded membership changed since ({a.status.value})")
        moved = row["moved"] or {}
        owners = uow.history.owners(moved)
        if owners - {b.id}:
            changes.append("some of the moved history was moved again")
        if changes:
            raise Conflict("cannot undo: " + "; ".join(changes))
        b.deactivate(EndReason.RESTORE_UNDONE, actor, now)
        uow.memberships.save_many([b], uow.request_id)
        if a is not None:
            if moved:
                uow.history.move(moved, a.id)
            a.activate(StartReason.RESTORE_UNDONE, actor, now)
            uow.memberships.save_many([a], uow.request_id)
        if row["relinked_from_user_id"]:
            uow.memberships.relink(b.id, row["relinked_from_user_id"])
        uow.restores.mark_undone(restore_id, now)
        uow.audit.add(
            AuditEntry(
                AuditAction.SUPPORT_RESTORE_UNDO,
                uow.actor,
                "Restore",
                restore_id,
                uow.request_id,
                now,
                {"reason": reason, "reactivated": a.id if a else None, "deactivated": b.id},
            )
        )
        result = _record(uow.restores.get(restore_id))
        uow.commit()
    return result
