"""Support commands: restore, membership timelines, drift, and seeding history."""

from __future__ import annotations

import json
import uuid
from typing import Any

import click

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.audit import CLI
from tenure.services import directory, drift, history, rooms
from tenure.services import restore as restores
from tenure.services.restore import RestoreCommand


def register(main: click.Group, engine: Any, org_ref: Any, do: Any) -> None:
    """Attach the support commands to the ``tenure`` group."""

    def uow(org_id: str, write: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine(), org_id, CLI, f"cli-{uuid.uuid4().hex[:12]}", write=write)

    @main.command()
    @click.argument("org", metavar="ORG")
    @click.option("--email", required=True, help="The person's e-mail (any identity they had).")
    @click.option("--room", "room_ref", required=True, help="Room id or exact name.")
    @click.option(
        "--membership", "membership_id", default=None, help="The membership to bring back (B)."
    )
    @click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")
    @click.option(
        "--no-merge", is_flag=True, help="Leave history created since on the current membership."
    )
    @click.option("--reason", default="", help="Why (a ticket reference).")
    @click.option("--json", "as_json", is_flag=True)
    def restore(
        org: str,
        email: str,
        room_ref: str,
        membership_id: str | None,
        dry_run: bool,
        no_merge: bool,
        reason: str,
        as_json: bool,
    ) -> None:
        """Restore a person's earlier membership in a room (see the README's runbook)."""
        org_id = org_ref(org)
        room = do(lambda: rooms.find_room(uow(org_id, False), room_ref))
        cmd = RestoreCommand(
            room_id=room["id"],
            email=email,
            membership_id=membership_id,
            merge=not no_merge,
            reason=reason,
        )
        if dry_run:
            result = do(lambda: restores.preview(uow(org_id, False), cmd))
        else:
            result = do(lambda: restores.restore(uow(org_id), cmd))
        if as_json:
            click.echo(json.dumps(result, default=str))
            return
        if dry_run:
            plan = result["plan"]
            a, b = plan["deactivate"], plan["reactivate"]
            click.echo(f"Plan for room {room['name']!r}:")
            click.echo(
                f"  deactivate: {a['id'] if a else '(none active)'}"
                + (f"  history {a['history']}" if a else "")
            )
            click.echo(f"  reactivate: {b['id']}  role {b['role']}  history {b['history']}")
            click.echo(f"  moves: {plan['moves']}")
            for warning in plan["warnings"]:
                click.echo(f"  ! {warning}")
            click.echo("Nothing changed (dry run).")
        else:
            click.echo(
                f"restore {result['id']}: reactivated {result['reactivated']}, deactivated "
                f"{result['deactivated'] or '-'}, moved {result['moved']}"
            )
            click.echo(f"undo with: POST /api/v1/restores/{result['id']}/undo")

    @main.command()
    @click.argument("org", metavar="ORG")
    @click.option("--email", required=True)
    @click.option("--json", "as_json", is_flag=True)
    def memberships(org: str, email: str, as_json: bool) -> None:
        """The timeline of every membership, in every room, of everyone known by EMAIL."""
        org_id = org_ref(org)
        views = do(lambda: directory.timeline(uow(org_id, False), email))
        data = [v.as_dict() for v in views]
        if as_json:
            click.echo(json.dumps(data, default=str))
            return
        for m in data:
            h = m["history"]
            click.echo(
                f"{m['room_name'] or m['room_id']}  [{m['status']}]  {m['id']}  role {m['role']}  "
                f"source {m['source']}  user {m['user'].get('userName', m['user_id'])}"
                f"{' (deleted)' if m['user'].get('deleted') else ''}  "
                f"history {h['meetings']}m/{h['notes']}n/{h['tasks']}t"
            )
            for p in m["periods"]:
                click.echo(
                    f"    {p['started_at']} {p['start_reason']:<17} → "
                    f"{p['ended_at'] or 'now':<27} {p['end_reason'] or ''}"
                )

    @main.command("drift")
    @click.argument("org", metavar="ORG")
    @click.option("--json", "as_json", is_flag=True)
    def drift_cmd(org: str, as_json: bool) -> None:
        """People SCIM does not manage, and other drift between rooms and the IdP."""
        org_id = org_ref(org)
        report = do(lambda: drift.report(uow(org_id, False)))
        if as_json:
            click.echo(json.dumps(report, default=str))
            return
        for section, items in report.items():
            click.echo(f"{section.replace('_', ' ')}: {len(items)}")
            for item in items[:20]:
                click.echo(
                    f"  - {item.get('why', '')} {item.get('userName') or item.get('value') or ''} "
                    f"{item.get('room') or item.get('room_id') or ''}"
                )

    @main.command("seed-history")
    @click.argument("org", metavar="ORG")
    @click.option("--membership", "membership_id", required=True)
    @click.option("--items", type=int, required=True)
    @click.option("--room", default=None, help="Ignored; the membership names its room.")
    def seed_history(org: str, membership_id: str, items: int, room: str | None) -> None:
        """Give a membership N history items (benchmarks and demos)."""
        org_id = org_ref(org)
        counts = do(lambda: history.seed_history(uow(org_id), membership_id, items))
        click.echo(json.dumps(counts))
