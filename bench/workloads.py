"""The SCIM workloads (1 to 6), run the same way against Tenure and scim2-server."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from bench.lean import LeanClient, LeanResponse
from bench.load import Req, Result, run_tasks, send, timed
from bench.scim import (
    add_members,
    create_group,
    external_id,
    group_payload,
    patch,
    remove_member,
    resource_id,
    user_name,
    user_payload,
)
from bench.target import Target
from bench.wrk import ONE_RESULT


def ceiling(t: Target, count: int, when: str = "") -> None:
    """Workload 0: the trivial endpoint, GET and POST (with a user-sized body), through wrk.
    ``when`` tells a second reading apart in the table."""
    t.replay("ceiling.get", f"ceiling GET /ping{when}", "-", lambda i: Req("GET", "/ping"), count)
    t.replay(
        "ceiling.post",
        f"ceiling POST /ping{when}",
        "user-sized body",
        lambda i: Req("POST", "/ping", user_payload("ceil", i)),
        count,
    )


def create_users(t: Target, prefix: str) -> None:
    """Workload 1: POST /Users, one user per request, through wrk."""
    n = t.sizes.users
    t.replay(
        "create",
        "1 create users",
        f"{n:,} users, c={t.sizes.concurrency}",
        lambda i: Req("POST", "/Users", user_payload(prefix, i)),
        n,
    )


def lookups(t: Target, total: int) -> None:
    """Workload 2: filter by userName and by externalId among ``total`` users, through wrk.

    Every 2xx answer must say ``totalResults`` 1 (checked on each body by ``replay.lua``).
    Then, for information (no target): the same users read by id, as Okta does before it
    changes one, and changed by a PATCH of ``displayName``, as Entra syncs an attribute.
    """
    t.ensure_population(total)
    have = len(t.pop.ids)
    rng = random.Random(7)
    picks = [rng.randrange(have) for _ in range(t.sizes.lookups)] if have else []
    size = f"{len(picks):,} of {have:,} users"
    for attr, value in (("userName", user_name), ("externalId", external_id)):
        t.replay(
            f"lookup.{attr}",
            f"2 look-up by {attr}",
            size,
            _lookup(t, attr, value, picks),
            len(picks),
            expect=ONE_RESULT,
        )
    ids = [t.pop.ids[p] for p in picks]
    t.replay(
        "read.id", "2 GET /Users/{id}", size, lambda i: Req("GET", f"/Users/{ids[i]}"), len(ids)
    )
    t.replay(
        "patch.user",
        "2 PATCH /Users/{id}",
        f"displayName, {size}",
        lambda i: Req("PATCH", f"/Users/{ids[i]}", _rename(i)),
        len(ids),
    )


def _rename(i: int) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": f"Renamed {i}"}],
    }


def _lookup(
    t: Target, attr: str, value: Callable[[str, int], str], picks: list[int]
) -> Callable[[int], Req]:
    def make(i: int) -> Req:
        return Req(
            "GET", "/Users", params={"filter": f'{attr} eq "{value(t.pop.prefix, picks[i])}"'}
        )

    return make


def group_bulk_add(t: Target, members: int) -> None:
    """Workload 3: one group, ``members`` users added in PATCH batches of 100."""
    t.ensure_population(members + t.sizes.single_ops + 1)
    ids = t.pop.ids[:members]
    batches = [ids[i : i + 100] for i in range(0, len(ids), 100)]

    def body() -> tuple[Result, dict[str, Any], str]:
        with t.client() as client:
            gid = create_group(client, f"bench-big-{t.pop.prefix}")
        r = t.load(
            lambda i: Req("PATCH", f"/Groups/{gid}", add_members(batches[i])),
            len(batches),
            concurrency=1,
        )
        added = sum(n for code, n in r.statuses.items() if 200 <= code < 300) * 100
        t.big_group = (gid, min(len(ids), added))
        if not r.latencies:
            return r, {"group_id": gid}, "no batch sent"
        first, last = r.latencies[0] * 1000, r.latencies[-1] * 1000
        return (
            r,
            {"first_batch_ms": first, "last_batch_ms": last, "group_id": gid},
            (f"batch 1: {first:.1f} ms, batch {len(r.latencies)}: {last:.1f} ms"),
        )

    t.measure("bulk_add", "3 group add, PATCH x100", f"{members:,} members", body)
    t.settled()


def single_add_remove(t: Target, small: int, large: int) -> None:
    """Workload 4: add then remove one member, Okta and Entra forms, in a small and a big group.

    Each round takes a user from outside both groups: Okta adds and removes it, then Entra adds
    it back (for Tenure, a re-add: the membership comes back under the org's policy) and
    removes it, in the small group and then in the big one. The two groups alternate round by
    round, so whatever else the machine does at a moment weighs on both sizes alike (their
    ratio is a target). A remove the server refuses is undone untimed, so the group keeps its
    size.
    """
    ops = t.sizes.single_ops
    if t.big_group is None or t.big_group[1] < large:
        group_bulk_add(t, large)
    if t.big_group is None:
        return
    t.ensure_population(large + ops + 1)
    outsiders = t.pop.ids[-ops:]
    with t.client() as client:
        small_gid = create_group(client, f"bench-small-{t.pop.prefix}", t.pop.ids[:small])
    groups = (("small", small_gid, small), ("large", t.big_group[0], t.big_group[1]))
    results = {
        (label, f, o): Result(planned=ops)
        for label, _, _ in groups
        for f in ("okta", "entra")
        for o in ("add", "remove")
    }

    def task(client: LeanClient, i: int, _: Result) -> None:
        for label, gid, _size in groups:
            for form in ("okta", "entra"):
                entra = form == "entra"
                timed(
                    client,
                    Req("PATCH", f"/Groups/{gid}", add_members([outsiders[i]], entra)),
                    results[(label, form, "add")],
                )
                req = Req("PATCH", f"/Groups/{gid}", remove_member(outsiders[i], entra))
                resp = timed(client, req, results[(label, form, "remove")])
                if resp is None or not resp.is_success:  # put the group back as it was, untimed
                    send(client, Req("PATCH", f"/Groups/{gid}", remove_member(outsiders[i])))

    run_tasks(t.scim_url, t.token, task, ops, 1, t.sizes.budget_s)
    for label, _gid, size in groups:
        for form in ("okta", "entra"):
            for op in ("add", "remove"):
                r = results[(label, form, op)]
                r.elapsed = sum(r.latencies)  # sequential: the loop's time for this alone
                t.record(
                    f"single.{form}.{op}.{label}",
                    f"4 single {op} ({form})",
                    f"group of {size:,}",
                    r,
                )


def full_replace(t: Target, size: int) -> None:
    """Workload 4, for information: Okta's full replace of a group's members (a PATCH
    ``replace`` of ``members``) that swaps one member, in a group of ``size``. The server
    reads the current members to find who leaves; the rounds alternate between two lists."""
    ops = t.sizes.single_ops
    t.ensure_population(size + 2)
    base = t.pop.ids[:size]
    lists = (base, [*base[1:], t.pop.ids[size]])
    with t.client() as client:
        gid = create_group(client, f"bench-replace-{t.pop.prefix}", base)
    result = Result(planned=ops)

    def task(client: LeanClient, i: int, _: Result) -> None:
        members = lists[(i + 1) % 2]
        body = patch({"op": "replace", "path": "members", "value": [{"value": m} for m in members]})
        timed(client, Req("PATCH", f"/Groups/{gid}", body), result)

    run_tasks(t.scim_url, t.token, task, ops, 1, t.sizes.budget_s)
    result.elapsed = sum(result.latencies)  # sequential: the loop's time for this alone
    t.record("replace.okta", "4 full replace (okta), one swapped", f"group of {size:,}", result)


def group_listing(t: Target, groups: int, size: int) -> None:
    """Workload 5: GET /Groups?excludedAttributes=members&count=200, and one large group GET."""
    t.ensure_population(size + 1)
    ids, made = t.pop.ids, []
    span = max(1, len(ids) - size)

    def make(i: int) -> Req:  # group i takes the next ``size`` users, wrapping around
        lo = (i * size) % span
        return Req(
            "POST",
            "/Groups",
            group_payload(f"bench-list-{t.pop.prefix}-{i:04d}", ids[lo : lo + size]),
        )

    def keep(i: int, resp: LeanResponse) -> str | None:
        made.append(resource_id(resp))
        return None

    def body() -> tuple[Result, dict[str, Any], str]:
        r = t.load(make, groups, keep)
        return r, {}, f"{len(made)} groups, members inline in POST /Groups"

    t.measure("listing.setup", "5 setup: create groups", f"{groups}x{size:,} members", body)

    def check(i: int, resp: LeanResponse) -> str | None:
        found = resp.json().get("Resources") or []
        with_members = sum(1 for g in found if g.get("members"))
        return f"{with_members} groups came with members" if with_members else None

    repeats = t.sizes.list_repeats
    with t.client() as client:
        listed = client.get("/Groups", params={"count": "1", "excludedAttributes": "members"})
        total = listed.json().get("totalResults") if listed.is_success else "?"
    t.measure(
        "listing",
        "5 GET /Groups no members",
        f"count=200 of {total} groups",
        lambda: (
            t.load(
                lambda i: Req(
                    "GET", "/Groups", params={"excludedAttributes": "members", "count": "200"}
                ),
                repeats,
                check,
                1,
            ),
            {},
            "",
        ),
    )
    if t.big_group is None:
        return
    gid, expected = t.big_group
    seen: list[int] = []

    def count_members(i: int, resp: LeanResponse) -> str | None:
        seen.append(len(resp.json().get("members") or []))
        return None if seen[-1] == expected else f"group has {seen[-1]} members, want {expected}"

    t.measure(
        "get_big_group",
        "5 GET /Groups/{id}",
        f"{expected:,} members",
        lambda: (
            t.load(lambda i: Req("GET", f"/Groups/{gid}"), 3, count_members, 1),
            {"members_returned": seen},
            "",
        ),
    )


def entra_sync(t: Target, users: int, groups: int) -> None:
    """Workload 6: Entra's first cycle: match-then-create users, then groups with members."""
    prefix = f"sync{t.pop.prefix}"
    ids: list[str | None] = [None] * users

    def user_task(client: LeanClient, i: int, r: Result) -> None:
        name = user_name(prefix, i)
        found = timed(client, Req("GET", "/Users", params={"filter": f'userName eq "{name}"'}), r)
        if found is not None and found.is_success and found.json().get("totalResults") == 0:
            created = timed(client, Req("POST", "/Users", user_payload(prefix, i)), r)
            ids[i] = resource_id(created) if created is not None and created.is_success else None

    def group_task(client: LeanClient, g: int, r: Result) -> None:
        name = f"bench-sync-{t.pop.prefix}-{g:03d}"
        timed(client, Req("GET", "/Groups", params={"filter": f'displayName eq "{name}"'}), r)
        gid = create_group(client, name, None, r)
        members = [m for m in ids[g::groups] if m]
        for lo in range(0, len(members), 50):  # Entra sends several members per operation
            timed(
                client, Req("PATCH", f"/Groups/{gid}", add_members(members[lo : lo + 50], True)), r
            )

    def body() -> tuple[Result, dict[str, Any], str]:
        t0 = time.perf_counter()
        r = run_tasks(t.scim_url, t.token, user_task, users, t.sizes.concurrency, t.sizes.budget_s)
        users_s = time.perf_counter() - t0
        rg = run_tasks(
            t.scim_url, t.token, group_task, groups, t.sizes.concurrency, t.sizes.budget_s
        )
        total = time.perf_counter() - t0
        r.merge(rg)
        r.elapsed = total
        return (
            r,
            {"total_s": total, "users_s": users_s, "groups_s": total - users_s},
            (f"total {total:.1f} s (users {users_s:.1f} s, groups {total - users_s:.1f} s)"),
        )

    t.measure("sync", "6 Entra initial sync", f"{users:,} users, {groups} groups", body)
