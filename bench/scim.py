"""SCIM payloads as Okta and Entra send them, and the fast population of a server."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.lean import LeanClient, LeanResponse
from bench.load import Req, Result, Task, make_client, run_load, run_tasks, timed

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def user_name(prefix: str, i: int) -> str:
    return f"{prefix}.{i:06d}@bench.example"


def external_id(prefix: str, i: int) -> str:
    return f"ext-{prefix}-{i:06d}"


def user_payload(prefix: str, i: int) -> dict[str, Any]:
    """A user as an IdP creates it: userName, externalId, name, one work email, active."""
    name = user_name(prefix, i)
    return {
        "schemas": [USER],
        "userName": name,
        "externalId": external_id(prefix, i),
        "name": {"givenName": f"Given{i}", "familyName": f"Family-{prefix}"},
        "displayName": f"Given{i} Family-{prefix}",
        "emails": [{"value": name, "type": "work", "primary": True}],
        "active": True,
    }


def group_payload(name: str, member_ids: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [GROUP], "displayName": name, "externalId": f"ext-{name}"}
    body["members"] = [{"value": m} for m in member_ids or []]
    return body


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(operations)}


def add_members(ids: list[str], entra: bool = False) -> dict[str, Any]:
    """Okta adds with a lowercase op; Entra capitalises it. Both send an array of values."""
    return patch(
        {"op": "Add" if entra else "add", "path": "members", "value": [{"value": m} for m in ids]}
    )


def remove_member(member_id: str, entra: bool = False) -> dict[str, Any]:
    """Okta removes by filtered path; Entra removes by value array (IDP-NOTES)."""
    if entra:
        return patch({"op": "Remove", "path": "members", "value": [{"value": member_id}]})
    return patch({"op": "remove", "path": f'members[value eq "{member_id}"]'})


def resource_id(resp: LeanResponse) -> str | None:
    try:
        data = resp.json()
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return str(value) if value else None


def create_group(
    client: LeanClient, name: str, members: list[str] | None = None, result: Result | None = None
) -> str:
    """POST one group (members inline, if any) and return its id."""
    req = Req("POST", "/Groups", group_payload(name, members))
    resp = timed(client, req, result if result is not None else Result())
    gid = resource_id(resp) if resp is not None and resp.is_success else None
    if gid is None:
        detail = "no response" if resp is None else f"{resp.status_code} {resp.text[:300]}"
        raise RuntimeError(f"could not create group {name}: {detail}")
    return gid


@dataclass(slots=True)
class Population:
    """Users created for look-ups and groups: index i has user_name(prefix, i) and ids[i]."""

    prefix: str
    ids: list[str] = field(default_factory=list)
    method: str = ""


def bulk_limits(base_url: str, token: str) -> tuple[bool, int, int]:
    """(supported, maxOperations, maxPayloadSize) from /ServiceProviderConfig (RFC 7644 §3.7)."""
    with make_client(base_url, token) as client:
        try:
            data = client.get("/ServiceProviderConfig").json()
        except (httpx.HTTPError, ValueError):
            return False, 0, 0
    bulk = data.get("bulk") or {} if isinstance(data, dict) else {}
    return (
        bool(bulk.get("supported")),
        int(bulk.get("maxOperations") or 0),
        int(bulk.get("maxPayloadSize") or 0),
    )


def populate(
    pop: Population, base_url: str, token: str, total: int, concurrency: int, budget_s: float
) -> Result:
    """Grow ``pop`` to ``total`` users fast: POST /Bulk in batches if offered, else POSTs."""
    start, prefix = len(pop.ids), pop.prefix
    n = max(0, total - start)
    slots: list[str | None] = [None] * n
    supported, max_ops, max_bytes = bulk_limits(base_url, token)
    per_user = len(httpx.Request("POST", "/", json=user_payload(prefix, n)).content) + 120
    batch = min(500, max_ops, (max_bytes - 1024) // per_user) if supported and max_bytes else 0
    if batch >= 10:
        method = f"POST /Bulk x{batch}"
        batches = (n + batch - 1) // batch
        result = run_tasks(
            base_url,
            token,
            _bulk_task(prefix, start, n, batch, slots),
            batches,
            min(concurrency, 2),
            budget_s,
        )
    else:
        method, result = "POST /Users", Result()
    missing = [i for i, s in enumerate(slots) if s is None]
    if missing:  # no Bulk, or some Bulk operations failed: fill the gaps one by one
        lock = threading.Lock()

        def keep(i: int, resp: LeanResponse) -> str | None:
            rid = resource_id(resp)
            with lock:
                slots[missing[i]] = rid
            return None if rid else f"no id in {resp.text[:200]}"

        rest = run_load(
            base_url,
            token,
            lambda i: Req("POST", "/Users", user_payload(prefix, start + missing[i])),
            len(missing),
            concurrency,
            budget_s,
            keep,
        )
        if method.startswith("POST /Bulk"):
            method += f" (+{len(missing)} single POSTs)"
        result.merge(rest)
    # Index i must stay the user named user_name(prefix, i): the population stops at a gap.
    first_gap = next((i for i, s in enumerate(slots) if s is None), n)
    if first_gap < n:
        result.record_error(f"populated {first_gap} of {n} users; the population stops there")
    pop.ids.extend(s for s in slots[:first_gap] if s is not None)
    pop.method = method
    return result


def _bulk_task(prefix: str, start: int, n: int, batch: int, slots: list[str | None]) -> Task:
    def task(client: LeanClient, b: int, result: Result) -> None:
        lo, hi = b * batch, min(n, (b + 1) * batch)
        ops = [
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": f"u{i}",
                "data": user_payload(prefix, start + i),
            }
            for i in range(lo, hi)
        ]
        resp = timed(client, Req("POST", "/Bulk", {"schemas": [BULK], "Operations": ops}), result)
        if resp is None or not resp.is_success:
            return
        try:
            answered = resp.json().get("Operations") or []
        except (ValueError, AttributeError):
            result.record_error(f"POST /Bulk -> unreadable body {resp.text[:200]}")
            return
        for op in answered:
            bulk_id, location = str(op.get("bulkId", "")), op.get("location") or ""
            status = (
                str((op.get("status") or {}).get("code", ""))
                if isinstance(op.get("status"), dict)
                else str(op.get("status", ""))
            )
            if bulk_id.startswith("u") and location and status.startswith("2"):
                slots[int(bulk_id[1:])] = location.rstrip("/").rsplit("/", 1)[-1]
            else:
                result.record_error(f"POST /Bulk op {bulk_id} -> {status} {op.get('response')}")

    return task
