"""Tenure's side of the bench: database, CLI set-up, and the admin-API workloads (7 and 8)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from bench.lean import LeanClient
from bench.load import Req, Result, timed
from bench.scim import add_members, create_group, remove_member, user_payload
from bench.servers import venv_bin
from bench.target import Skipped, Target


class CliError(RuntimeError):
    """A ``tenure`` command failed."""


def cli(db_url: str, *args: str, timeout: float = 600) -> str:
    proc = subprocess.run(
        [venv_bin("tenure"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(db_url),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        raise CliError(f"tenure {' '.join(args)} -> {proc.returncode}: {_gist(proc)}")
    return proc.stdout


def _gist(proc: subprocess.CompletedProcess[str]) -> str:
    """The line that says what went wrong: a traceback's exception line, else the last line."""
    lines = [line.strip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
    found = [line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b", line)]
    return (found or lines or ["no output"])[-1][:400]


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

    def client(self) -> LeanClient:
        return LeanClient(
            self.api_url,
            params={"org": self.org_id},
            headers={"Authorization": f"Bearer {self.api_key}"},
        )


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


def _call(client: LeanClient, req: Req, into: Result) -> Any:
    """Send a set-up request; a failure stops the workload (a 404 skips it: not served yet)."""
    resp = timed(client, req, into)
    if resp is not None and resp.is_success:
        return resp.json() if resp.content else None
    what = f"{req.method} {client.base_path}{req.url}"
    if resp is None:
        raise RuntimeError(f"{what}: {into.error_samples[-1:]}")
    if resp.status_code in (404, 405):
        raise Skipped(f"{what} answers {resp.status_code}: {resp.text[:150]}")
    raise RuntimeError(f"{what}: {resp.status_code} {resp.text[:300]}")


def _seed_history(admin: Admin, room: str, membership: str, n: int) -> None:
    """Seed history with the CLI, naming the organisation by id, else by slug."""
    args = ("--room", room, "--membership", membership, "--items", str(n))
    try:
        cli(admin.db_url, "seed-history", admin.org_id, *args)
    except CliError:
        cli(admin.db_url, "seed-history", admin.org_slug, *args)


def _history_total(api: LeanClient, uid: str, room_id: str, into: Result) -> int:
    """History items on the user's active membership in the room (after a restore)."""
    got = items(_call(api, Req("GET", f"/users/{uid}/memberships"), into))
    active = [m for m in got if m.get("room_id") == room_id and m.get("status") == "active"]
    history = active[0].get("history") if active else None
    return sum(v for v in history.values() if isinstance(v, int)) if history else 0


def restore(t: Target) -> None:
    """Workload 7: restore memberships that each carry ``history`` items, one restore per run.

    Set-up per user (outside the measured window): in the room of a fresh group, seed history
    on the membership, then remove and re-add the user by SCIM under the org's ``fresh`` policy
    (a new, empty membership). Measured: restoring the old one (a dry run first, timed apart).
    """
    adm: Admin = t.admin
    runs, n = t.sizes.restore_runs, t.sizes.history
    size = f"{n:,} items, {runs} runs"
    scratch, dry, real = Result(), Result(), Result()
    plan: dict[str, str] = {}  # user id -> the old membership to restore
    where: dict[str, str] = {}

    def setup() -> None:
        try:
            cli(adm.db_url, "seed-history", "--help")
        except CliError as exc:
            last = str(exc).strip().splitlines()[-1]
            raise Skipped(f"`tenure seed-history` is not available ({last})") from None
        with adm.client() as api, t.client() as scim:
            _call(api, Req("PATCH", "/organisation", {"readd_policy": "fresh"}), scratch)
            prefix = f"rst{t.pop.prefix}{time.strftime('%H%M%S')}"
            users = [
                _call(scim, Req("POST", "/Users", user_payload(prefix, i)), scratch)["id"]
                for i in range(runs)
            ]
            gid = create_group(scim, f"bench-restore-{prefix}", users, scratch)
            for uid in users:  # fresh users in one group: their only membership is in its room
                got = items(_call(api, Req("GET", f"/users/{uid}/memberships"), scratch))
                if len(got) != 1:
                    raise RuntimeError(f"user {uid} has {len(got)} memberships, want 1: {got}")
                where["room"], plan[uid] = str(got[0]["room_id"]), str(got[0]["id"])
                _seed_history(adm, where["room"], plan[uid], n)
            for uid in users:  # removed, then re-added under ``fresh``: a new, empty membership
                _call(scim, Req("PATCH", f"/Groups/{gid}", remove_member(uid)), scratch)
            _call(scim, Req("PATCH", f"/Groups/{gid}", add_members(users)), scratch)

    def body() -> tuple[Result, dict[str, Any], str]:
        verified: list[int] = []
        with adm.client() as api:
            for uid, old in plan.items():
                for dry_run, into in ((True, dry), (False, real)):
                    req = {
                        "room_id": where["room"],
                        "user_id": uid,
                        "membership_id": old,
                        "dry_run": dry_run,
                        "merge": True,
                        "reason": "bench: restore timing",
                    }
                    timed(api, Req("POST", "/restores", req), into)
                verified.append(_history_total(api, uid, where["room"], scratch))
        bad = [v for v in verified if v != n]
        if bad:
            real.record_error(f"after restore the active membership holds {bad[0]} items, want {n}")
        real.elapsed = sum(real.latencies)
        return real, {"history_after": verified}, "merge=true; srv cpu includes the dry runs"

    t.measure("restore", "7 restore membership", size, body, setup)
    if dry.done:
        t.record("restore.dry_run", "7 restore (dry run)", size, dry)


def drift(t: Target) -> None:
    """Workload 8: the drift report over the whole directory."""
    t.ensure_population(t.sizes.drift_users)
    adm: Admin = t.admin

    def body() -> tuple[Result, dict[str, Any], str]:
        r, size = Result(planned=t.sizes.drift_repeats), 0
        with adm.client() as api:
            for _ in range(t.sizes.drift_repeats):
                resp = timed(api, Req("GET", "/drift"), r)
                if resp is not None and resp.status_code in (404, 405):
                    raise Skipped(
                        f"GET /api/v1/drift answers {resp.status_code}: {resp.text[:150]}"
                    )
                if resp is not None and resp.is_success:
                    size = len(resp.content)
        return r, {"bytes": size}, f"{size:,} bytes" if size else ""

    t.measure("drift", "8 drift report", f"{len(t.pop.ids):,}+ users", body)
