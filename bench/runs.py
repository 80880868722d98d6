"""The runs of one bench: the ceiling, the reference server, and Tenure on each backend."""

from __future__ import annotations

import secrets
from pathlib import Path

from bench import admin, pg, workloads
from bench.load import ms, percentile
from bench.report import Row, progress
from bench.scim import Population
from bench.servers import (
    ManagedServer,
    ServerFailed,
    ceiling_server,
    reference_server,
    running,
    tenure_server,
)
from bench.sizes import Sizes
from bench.target import Target


def _rss_row(rows: list[Row], kind: str, run: str, server: ManagedServer) -> None:
    s = server.sampler
    if s is None:
        return
    rows.append(
        Row(
            "rss",
            "9 server RSS, peak",
            kind,
            run,
            f"{s.processes} process(es)",
            rss_peak_mb=round(s.peak_total_kb / 1024, 1),
            note=f"peak {s.peak_total_kb / 1024:.0f} MB summed, largest process "
            f"{s.peak_single_kb / 1024:.0f} MB",
        )
    )


def _round_trip_rows(rows: list[Row], run: str) -> None:
    """The machine's round trip to PostgreSQL, read just before the one-member changes it
    bounds: back to back, and after 2 ms of quiet (how a change meets the database)."""
    try:
        busy, idle = pg.round_trips()
    except (pg.psycopg.Error, OSError) as exc:  # the workloads run without it
        progress(f"{run}: PostgreSQL round trip not measured: {exc}")
        return
    for key, title, lat in (
        ("pg.round_trip", "4 PostgreSQL round trip, back to back", busy),
        ("pg.round_trip.idle", "4 PostgreSQL round trip, after 2 ms idle", idle),
    ):
        stats = {
            "requests": len(lat),
            "p50_ms": ms(percentile(lat, 50)),
            "p95_ms": ms(percentile(lat, 95)),
            "p99_ms": ms(percentile(lat, 99)),
            "errors": 0,
        }
        note = "SELECT 1 over a connection of its own; a one-member change makes five"
        rows.append(Row(key, title, "tenure", run, "SELECT 1", stats, note=note))
        progress(f"{run}: {title}: p50 {1e6 * (percentile(lat, 50) or 0):.0f} us")


def _failed(rows: list[Row], kind: str, run: str, exc: Exception) -> None:
    progress(f"{run}: FAILED {type(exc).__name__}: {exc}")
    rows.append(
        Row(
            "failed",
            "server run",
            kind,
            run,
            "-",
            note=f"failed: {type(exc).__name__}: {exc}"[:400],
        )
    )


def run_ceiling(
    rows: list[Row], sizes: Sizes, log_dir: Path, near: str = "", when: str = ""
) -> None:
    """The ceiling's two workloads. ``near`` names the Tenure run the reading brackets and
    ``when`` says before or after it: Tenure's ratios take the higher of the two readings around
    its own rows, so a slow moment of the machine never makes Tenure's share look larger, and
    a fast one minutes away never makes it look smaller."""
    srv = ceiling_server(log_dir)
    label = f" ({when} {near})" if near else ""
    try:
        with running(srv, "/ping"):
            t = Target("ceiling", "ceiling", srv, srv.root_url, "", sizes, Population("x"), rows)
            before = len(rows)
            workloads.ceiling(t, sizes.ceiling_requests, label)
            for row in rows[before:]:
                row.extra["near"] = near
    except (ServerFailed, OSError) as exc:
        _failed(rows, "ceiling", "ceiling", exc)
    finally:
        _rss_row(rows, "ceiling", "ceiling", srv)


def run_reference(rows: list[Row], sizes: Sizes, only: set[str], log_dir: Path) -> None:
    token = secrets.token_hex(16)
    srv = reference_server(log_dir, token)
    run = "scim2-server/memory"
    try:
        with running(srv, "/v2/ServiceProviderConfig", {"Authorization": f"Bearer {token}"}):
            t = Target(
                "scim2-server",
                run,
                srv,
                srv.root_url + "/v2",
                token,
                sizes,
                Population("ref"),
                rows,
            )
            if "create" in only:
                workloads.create_users(t, "refc")
            if "lookup" in only:
                workloads.lookups(t, sizes.ref_lookup_users)
            if "bulk_add" in only:
                workloads.group_bulk_add(t, sizes.ref_group_members)
            if "single" in only:
                workloads.single_add_remove(t, sizes.small_group, sizes.ref_group_members)
                workloads.full_replace(t, sizes.small_group)
            if "listing" in only:
                workloads.group_listing(t, sizes.groups, sizes.group_size)
    except (ServerFailed, OSError) as exc:
        _failed(rows, "scim2-server", run, exc)
    finally:
        _rss_row(rows, "scim2-server", run, srv)


def run_tenure(
    rows: list[Row],
    sizes: Sizes,
    only: set[str],
    backend: str,
    workers: list[int],
    run_dir: Path,
    analyze: bool,
    ceiling: bool = True,
) -> None:
    """One backend: a fresh database, then a server per worker count (see ``--workers``);
    with ``ceiling``, the ceiling is read just before and just after each run's creates and
    look-ups."""
    try:
        db_url = pg.prepare_database(backend, run_dir)
        adm = admin.provision(db_url)
    except Exception as exc:
        _failed(rows, "tenure", f"tenure/{backend}", exc)
        return
    analyzer = None
    if backend == "postgresql" and analyze and not pg.autovacuum_on():
        analyzer = pg.Analyzer()
        progress("autovacuum is off: the bench runs its ANALYZE before each workload instead")
    try:
        _tenure_runs(rows, sizes, only, backend, workers, run_dir, db_url, adm, analyzer, ceiling)
    finally:
        if analyzer is not None:
            rows.append(
                Row(
                    "analyze",
                    "ANALYZE (autovacuum off)",
                    "tenure",
                    f"tenure/{backend}",
                    "before each workload",
                    note=f"{analyzer.runs} runs, {analyzer.failures} failed",
                )
            )


def _tenure_runs(
    rows: list[Row],
    sizes: Sizes,
    only: set[str],
    backend: str,
    workers: list[int],
    run_dir: Path,
    db_url: str,
    adm: admin.Admin,
    analyzer: pg.Analyzer | None,
    ceiling: bool,
) -> None:
    pop = Population("p")
    bracket = ceiling and bool(only & {"create", "lookup"})
    # The most workers first, the fewest last: each run creates and looks up, and only the
    # last runs the other workloads. So every run looks up the same directory, before any
    # group exists (a user's groups are part of each look-up's answer).
    counts = sorted(set(workers), reverse=True) if backend == "postgresql" else workers[:1]
    for w in counts:
        run = f"tenure/{backend} w{w}"
        srv = tenure_server(run_dir, f"tenure-{backend}-w{w}", db_url, w)
        try:
            with running(
                srv, "/scim/v2/ServiceProviderConfig", {"Authorization": f"Bearer {adm.token}"}
            ):
                adm.api_url = srv.root_url + "/api/v1"
                t = Target(
                    "tenure",
                    run,
                    srv,
                    srv.root_url + "/scim/v2",
                    adm.token,
                    sizes,
                    pop,
                    rows,
                    admin=adm,
                    settle=analyzer.analyze if analyzer is not None else None,
                    catch_up=analyzer.catch_up if analyzer is not None else None,
                )
                if bracket:
                    run_ceiling(rows, sizes, run_dir, run, "before")
                if "create" in only:
                    workloads.create_users(t, f"c{w}")
                if "lookup" in only:
                    workloads.lookups(t, sizes.lookup_users)
                if bracket:
                    run_ceiling(rows, sizes, run_dir, run, "after")
                if w == counts[-1]:
                    _rest_of_tenure(t, sizes, only)
        except (ServerFailed, OSError) as exc:
            _failed(rows, "tenure", run, exc)
        finally:
            _rss_row(rows, "tenure", run, srv)


def _rest_of_tenure(t: Target, sizes: Sizes, only: set[str]) -> None:
    if "bulk_add" in only:
        workloads.group_bulk_add(t, sizes.group_members)
    if "single" in only:
        if t.run.startswith("tenure/postgresql"):
            _round_trip_rows(t.rows, t.run)
        workloads.single_add_remove(t, sizes.small_group, sizes.group_members)
        workloads.full_replace(t, sizes.small_group)
    if "listing" in only:
        workloads.group_listing(t, sizes.groups, sizes.group_size)
    if "sync" in only:
        workloads.entra_sync(t, sizes.sync_users, sizes.sync_groups)
    if "restore" in only:
        admin.restore(t)
    if "drift" in only:
        admin.drift(t)
