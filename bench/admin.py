"""Tenure's side of the bench: database, CLI set-up, and the admin-API workloads (7 and 8)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.load import Req, Result, timed
from bench.report import Row
from bench.scim import add_members, create_group, patch, resource_id, user_payload
from bench.servers import venv_bin
from bench.workloads import Target

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "tenure_bench"


class CliError(RuntimeError):
    """A ``tenure`` command failed."""


def prepare_database(backend: str, run_dir: Path) -> str:
    """A fresh, empty database for one backend; returns its TENURE_DATABASE_URL."""
    if backend == "sqlite":
        path = run_dir / "tenure.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"


def cli(db_url: str, *args: str, timeout: float = 600) -> str:
    proc = subprocess.run([venv_bin("tenure"), *args], capture_output=True, text=True,
                          timeout=timeout, env=_env(db_url), stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        raise CliError(f"tenure {' '.join(args)} -> {proc.returncode}: "
                       f"{(proc.stderr or proc.stdout).strip()[-600:]}")
    return proc.stdout


def cli_json(db_url: str, *args: str) -> dict[str, Any]:
    out = cli(db_url, *args)
    try:
        data = json.loads(out)
    except json.JSONDecodeError:  # tolerate a log line before the JSON
        lines = [line for line in out.splitlines() if line.strip().startswith("{")]
        if not lines:
            raise CliError(f"tenure {' '.join(args)} printed no JSON: {out[:300]}") from None
        data = json.loads(lines[-1])
    if not isinstance(data, dict):
        raise CliError(f"tenure {' '.join(args)} printed {data!r}")
    return data


def _env(db_url: str) -> dict[str, str]:
    return {**os.environ, "TENURE_DATABASE_URL": db_url}


@dataclass(slots=True)
class Admin:
    """What the admin workloads need: the org, a SCIM token, a support API key."""

    db_url: str
    org_id: str
    org_slug: str
    token: str
    api_key: str
    api_url: str = ""  # set once the server runs

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, params={"org": self.org_id}, timeout=120,
                            headers={"Authorization": f"Bearer {self.api_key}"})


def provision(db_url: str) -> Admin:
    """Migrate the database and create the org, its SCIM token and a support API key."""
    cli(db_url, "db", "upgrade")
    org = cli_json(db_url, "org", "create", f"Bench {time.strftime('%H%M%S')}", "--json")
    org_id, slug = str(org["id"]), str(org.get("slug") or org["id"])
    try:
        tok = cli_json(db_url, "token", "create", org_id, "--json")
    except CliError:  # the command may name the organisation by slug
        tok = cli_json(db_url, "token", "create", slug, "--json")
    key = cli_json(db_url, "apikey", "create", "--role", "support", "--json")
    return Admin(db_url, org_id, slug, str(tok["token"]), str(key["key"]))


def items(payload: Any) -> list[dict[str, Any]]:
    """The list inside an admin-API answer, whatever key it is under."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for value in payload.values():
            if isinstance(value, list) and (not value or isinstance(value[0], dict)):
                return value
    return []


def _ok(resp: httpx.Response | None, what: str) -> Any:
    if resp is None or not resp.is_success:
        detail = "no response" if resp is None else f"{resp.status_code} {resp.text[:300]}"
        raise RuntimeError(f"{what}: {detail}")
    return resp.json() if resp.content else None


def _seed_history(admin: Admin, room: str, membership: str, n: int) -> None:
    """Seed history with the CLI, naming the organisation by id, else by slug."""
    args = ("--room", room, "--membership", membership, "--items", str(n))
    try:
        cli(admin.db_url, "seed-history", admin.org_id, *args)
    except CliError:
        cli(admin.db_url, "seed-history", admin.org_slug, *args)


def restore(t: Target) -> None:
    """Workload 7: restore a membership whose history holds ``history`` items."""
    admin: Admin = t.admin
    runs, n = t.sizes.restore_runs, t.sizes.history
    size = f"{n:,} history items, {runs} runs"
    scratch, dry, real = Result(), Result(), Result()
    try:
        cli(admin.db_url, "seed-history", "--help")
    except CliError as exc:
        t.rows.append(Row("restore", "7 restore membership", "tenure", t.run, size,
                          note=f"skipped: `tenure seed-history` is not available ({exc})"[:300]))
        return

    def body() -> tuple[Result, dict[str, Any], str]:
        with admin.client() as api, t.client() as scim:
            _ok(timed(api, Req("PATCH", "/organisation", {"readd_policy": "fresh"}), scratch),
                "PATCH /api/v1/organisation")
            users = [resource_id(_r) or "" for _r in (
                timed(scim, Req("POST", "/Users", user_payload(f"rst{t.pop.prefix}", i)), scratch)
                for i in range(runs)) if _r is not None]
            gid = create_group(scim, f"bench-restore-{t.pop.prefix}", users, scratch)
            rooms = items(_ok(timed(api, Req("GET", "/rooms"), scratch), "GET /api/v1/rooms"))
            room = next((r for r in rooms if r.get("group_id") == gid), None)
            if room is None:
                raise RuntimeError(f"no room for group {gid} in GET /api/v1/rooms")
            old: dict[str, str] = {}
            for uid in users:
                got = items(_ok(timed(api, Req("GET", f"/users/{uid}/memberships"), scratch),
                                "GET /api/v1/users/{id}/memberships"))
                mine = [m for m in got if m.get("room_id") == room["id"]]
                if not mine:
                    raise RuntimeError(f"user {uid} has no membership in room {room['id']}")
                old[uid] = str(mine[0]["id"])
                _seed_history(admin, str(room["id"]), old[uid], n)
            for uid in users:  # removed and re-added under the fresh policy: a new membership
                _ok(timed(scim, Req("PATCH", f"/Groups/{gid}", patch(
                    {"op": "remove", "path": f'members[value eq "{uid}"]'})), scratch),
                    "SCIM remove")
            _ok(timed(scim, Req("PATCH", f"/Groups/{gid}", add_members(users)), scratch),
                "SCIM re-add")
            for uid in users:
                for dry_run, result in ((True, dry), (False, real)):
                    timed(api, Req("POST", "/restores", {
                        "room_id": room["id"], "user_id": uid, "membership_id": old[uid],
                        "dry_run": dry_run, "merge": True, "reason": "bench: restore timing"}),
                        result)
        return real, {"room_id": room["id"]}, f"merge=true; set-up requests: {scratch.done}"

    t.measure("restore", "7 restore membership", size, body)
    if dry.done:
        t.record("restore.dry_run", "7 restore (dry run)", size, dry)
    if scratch.errors:
        t.rows[-1].note += f"; set-up errors: {scratch.error_samples[:2]}"


def drift(t: Target) -> None:
    """Workload 8: the drift report over the whole directory."""
    t.ensure_population(t.sizes.drift_users)
    admin: Admin = t.admin

    def body() -> tuple[Result, dict[str, Any], str]:
        r, size = Result(planned=t.sizes.drift_repeats), 0
        with admin.client() as api:
            for _ in range(t.sizes.drift_repeats):
                resp = timed(api, Req("GET", "/drift"), r)
                if resp is not None and resp.is_success:
                    size = len(resp.content)
        return r, {"bytes": size}, f"{size:,} bytes" if size else ""

    t.measure("drift", "8 drift report", f"{len(t.pop.ids):,}+ users", body)
