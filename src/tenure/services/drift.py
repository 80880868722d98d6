"""The drift report: where the room memberships and the IdP's picture disagree."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.audit import AuditAction, AuditEntry
from tenure.domain.clock import as_utc, utcnow
from tenure.domain.errors import InvalidInput, NotFound, TenureError
from tenure.domain.ids import new_id
from tenure.services.restore import RestoreCommand, _execute
from tenure.services.views import iso

MASS_REMOVAL_SHARE = 0.30
MASS_REMOVAL_MIN = 5
MASS_WINDOW = timedelta(minutes=10)
LOOKBACK = timedelta(days=90)


def report(
    uow: SqlUnitOfWork, *, share: float = MASS_REMOVAL_SHARE, minimum: int = MASS_REMOVAL_MIN
) -> dict[str, Any]:
    with uow:
        return {
            "not_in_group": _not_in_group(uow),
            "inactive_users": _inactive_users(uow),
            "duplicate_identities": uow.drift.duplicate_identities(),
            "unknown_members": [
                {
                    **u,
                    "seen_at": iso(u["seen_at"]),
                    "remedy": "check the assignment in the identity provider: "
                    "this id names no user here",
                }
                for u in uow.groups.unknown(limit=200)
            ],
            "mass_removals": _mass_removals(uow, share, minimum),
        }


def _not_in_group(uow: SqlUnitOfWork) -> list[dict[str, Any]]:
    items = []
    for row in uow.drift.active_outside_group():
        items.append(
            {
                "membership_id": row["membership_id"],
                "user_id": row["user_id"],
                "userName": row["user_name"],
                "room_id": row["room_id"],
                "room": row["room_name"],
                "source": row["source"],
                "why": "active in a group-linked room but not in the group: "
                "the IdP will never remove them",
                "remedies": [
                    {
                        "action": "deactivate",
                        "method": "POST",
                        "path": f"/api/v1/memberships/{row['membership_id']}/deactivate",
                    },
                    {
                        "action": "adopt",
                        "how": "add the person to the group in the identity provider: the "
                        "next sync adopts this same membership (history kept) and manages it",
                    },
                ],
            }
        )
    return items


def _inactive_users(uow: SqlUnitOfWork) -> list[dict[str, Any]]:
    return [
        {
            "membership_id": row["membership_id"],
            "user_id": row["user_id"],
            "userName": row["user_name"],
            "room_id": row["room_id"],
            "room": row["room_name"],
            "why": "the user is deleted in the IdP"
            if row["deleted"]
            else "the user is disabled in the IdP",
            "remedies": [
                {
                    "action": "deactivate",
                    "method": "POST",
                    "path": f"/api/v1/memberships/{row['membership_id']}/deactivate",
                }
            ],
        }
        for row in uow.drift.active_of_inactive_users()
    ]


def _mass_removals(uow: SqlUnitOfWork, share: float, minimum: int) -> list[dict[str, Any]]:
    ended = uow.memberships.ended_in_window(utcnow() - LOOKBACK)
    sizes = uow.memberships.active_counts_by_room()
    by_room: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in ended:
        by_room[row["room_id"]].append(row)
    batches = []
    for room_id, rows in by_room.items():
        clusters: list[list[dict[str, Any]]] = []
        for row in sorted(rows, key=lambda r: as_utc(r["ended_at"])):
            if (
                clusters
                and as_utc(row["ended_at"]) - as_utc(clusters[-1][-1]["ended_at"]) <= MASS_WINDOW
            ):
                clusters[-1].append(row)
            else:
                clusters.append([row])
        for cluster in clusters:
            # The room's size before the batch: members still active plus those the batch removed.
            before = sizes.get(room_id, 0) + len({r["membership_id"] for r in cluster})
            count = len({r["membership_id"] for r in cluster})
            if count >= minimum and count >= share * before:
                start, end = as_utc(cluster[0]["ended_at"]), as_utc(cluster[-1]["ended_at"])
                batches.append(
                    {
                        "room_id": room_id,
                        "removed": count,
                        "room_size_before": before,
                        "share": round(count / before, 3),
                        "from": iso(start),
                        "until": iso(end),
                        "request_ids": sorted(
                            {r["end_request_id"] for r in cluster if r["end_request_id"]}
                        ),
                        "still_inactive": sum(1 for r in cluster if r["status"] == "inactive"),
                        "why": f"{count} of {before} members removed within "
                        f"{_minutes(start, end)}: a scope change?",
                        "remedies": [
                            {
                                "action": "restore batch",
                                "method": "POST",
                                "path": "/api/v1/restores/batch",
                                "body": {
                                    "room_id": room_id,
                                    "since": iso(start),
                                    "until": iso(end + timedelta(microseconds=1)),
                                },
                            }
                        ],
                    }
                )
    return sorted(batches, key=lambda b: b["from"], reverse=True)


def _minutes(start: datetime, end: datetime) -> str:
    seconds = (end - start).total_seconds()
    return "one request" if seconds < 1 else f"{max(1, round(seconds / 60))} minute(s)"


def restore_batch(
    uow_factory: Any,
    room_id: str,
    since: datetime | None,
    until: datetime | None,
    request_id: str | None,
    reason: str,
    dry_run: bool,
) -> dict[str, Any]:
    """Restore every membership one mass removal ended, each in its own transaction."""
    if since is None and request_id is None:
        raise InvalidInput("give since/until or request_id to name the batch")
    with uow_factory(write=False) as uow:
        if uow.rooms.get(room_id) is None:
            raise NotFound(f"room {room_id} not found")
        rows = [
            r
            for r in uow.memberships.ended_in_window(since or (utcnow() - LOOKBACK))
            if r["room_id"] == room_id
            and (until is None or as_utc(r["ended_at"]) < until)
            and (request_id is None or r["end_request_id"] == request_id)
        ]
    targets = {r["membership_id"]: r for r in rows if r["status"] == "inactive"}
    batch_id = new_id()
    restored, skipped = [], []
    for membership_id, row in targets.items():
        cmd = RestoreCommand(
            room_id=room_id,
            user_id=row["user_id"],
            membership_id=membership_id,
            reason=reason or "mass removal",
            batch_id=batch_id,
        )
        try:
            uow = uow_factory()
            with uow:
                result = _execute(uow, cmd, utcnow(), str(uow.actor))
                if dry_run:
                    restored.append({"membership_id": membership_id, "user_id": row["user_id"]})
                    continue  # rolled back on exit
                uow.commit()
            restored.append(result)
        except TenureError as error:
            skipped.append(
                {"membership_id": membership_id, "user_id": row["user_id"], "why": error.detail}
            )
    if not dry_run and restored:
        uow = uow_factory()
        with uow:
            uow.audit.add(
                AuditEntry(
                    AuditAction.SUPPORT_BATCH_RESTORE,
                    uow.actor,
                    "Room",
                    room_id,
                    uow.request_id,
                    utcnow(),
                    {
                        "batch_id": batch_id,
                        "restored": len(restored),
                        "skipped": len(skipped),
                        "reason": reason,
                    },
                )
            )
            uow.commit()
    return {"batch_id": batch_id, "dry_run": dry_run, "restored": restored, "skipped": skipped}
