"""``python -m bench``: load-test Tenure against scim2-server and a trivial-endpoint ceiling.

Every server runs in its own process on 127.0.0.1 and is stopped at the end, whatever ends the
run. The table goes to stdout, progress to stderr, and the figures to bench/results/<time>.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import admin, workloads
from bench.report import Row, progress, render, write_json
from bench.scim import Population
from bench.servers import (
    ManagedServer,
    ServerFailed,
    ceiling_server,
    install_cleanup,
    reference_server,
    running,
    stop_all,
    tenure_server,
)
from bench.sizes import Sizes
from bench.target import Target

WORKLOADS = ("create", "lookup", "bulk_add", "single", "listing", "sync", "restore", "drift")
RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="postgresql")
    preset = p.add_mutually_exclusive_group()
    preset.add_argument("--quick", action="store_true", help="tiny sizes, the whole run < 1 minute")
    preset.add_argument(
        "--spec",
        action="store_true",
        help="the sizes of the spec (100k users, 200 groups of 1k): a long run",
    )
    p.add_argument(
        "--only", metavar="WORKLOAD,...", help=f"run only these workloads: {', '.join(WORKLOADS)}"
    )
    p.add_argument(
        "--workers",
        default="1,2",
        metavar="1,2",
        help="Tenure worker counts on PostgreSQL (create and look-up are re-run for "
        "each; everything else runs on the first); SQLite uses the first only",
    )
    p.add_argument("--no-reference", action="store_true", help="skip scim2-server")
    p.add_argument("--no-tenure", action="store_true", help="skip Tenure (measure the others)")
    p.add_argument("--no-ceiling", action="store_true", help="skip the trivial-endpoint ceiling")
    p.add_argument("--output", type=Path, default=RESULTS, help="directory of the JSON results")
    for name in Sizes.names():
        kind = float if name == "budget_s" else int
        flag = "--budget" if name == "budget_s" else "--" + name.replace("_", "-")
        p.add_argument(
            flag,
            dest=name,
            type=kind,
            metavar="N",
            help=f"default {getattr(Sizes(), name)}, quick {getattr(Sizes.quick(), name)}",
        )
    return p.parse_args(argv)


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


def run_ceiling(rows: list[Row], sizes: Sizes, log_dir: Path) -> None:
    srv = ceiling_server(log_dir)
    try:
        with running(srv, "/ping"):
            t = Target("ceiling", "ceiling", srv, srv.root_url, "", sizes, Population("x"), rows)
            workloads.ceiling(t, sizes.ceiling_requests)
            _rss_row(rows, "ceiling", "ceiling", srv)
    except (ServerFailed, OSError) as exc:
        _failed(rows, "ceiling", "ceiling", exc)


def run_reference(rows: list[Row], sizes: Sizes, only: set[str], log_dir: Path) -> None:
    token = secrets.token_urlsafe(16)
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
            if "listing" in only:
                workloads.group_listing(t, sizes.groups, sizes.group_size)
            _rss_row(rows, "scim2-server", run, srv)
    except (ServerFailed, OSError) as exc:
        _failed(rows, "scim2-server", run, exc)


def run_tenure(
    rows: list[Row], sizes: Sizes, only: set[str], backend: str, workers: list[int], run_dir: Path
) -> None:
    try:
        db_url = admin.prepare_database(backend, run_dir)
        adm = admin.provision(db_url)
    except Exception as exc:
        _failed(rows, "tenure", f"tenure/{backend}", exc)
        return
    pop = Population("p")
    for n, w in enumerate(workers if backend == "postgresql" else workers[:1]):
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
                )
                if "create" in only:
                    workloads.create_users(t, f"c{w}")
                if "lookup" in only:
                    workloads.lookups(t, sizes.lookup_users)
                if n == 0:
                    _rest_of_tenure(t, sizes, only)
                _rss_row(rows, "tenure", run, srv)
        except (ServerFailed, OSError) as exc:
            _failed(rows, "tenure", run, exc)


def _rest_of_tenure(t: Target, sizes: Sizes, only: set[str]) -> None:
    if "bulk_add" in only:
        workloads.group_bulk_add(t, sizes.group_members)
    if "single" in only:
        workloads.single_add_remove(t, sizes.small_group, sizes.group_members)
    if "listing" in only:
        workloads.group_listing(t, sizes.groups, sizes.group_size)
    if "sync" in only:
        workloads.entra_sync(t, sizes.sync_users, sizes.sync_groups)
    if "restore" in only:
        admin.restore(t)
    if "drift" in only:
        admin.drift(t)


def _meta(
    args: argparse.Namespace,
    sizes: Sizes,
    backends: list[str],
    workers: list[int],
    only: set[str],
    run_dir: Path,
) -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "backends": backends,
        "workers": workers,
        "workloads": [w for w in WORKLOADS if w in only],
        "sizes": sizes.as_dict(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "versions": {n: version(n) for n in ("tenure", "scim2-server", "httpx", "uvicorn")},
        "logs": str(run_dir),
        "load_generator": "httpx sync clients, one per thread, keep-alive, in the bench process",
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = Sizes.quick() if args.quick else Sizes.spec() if args.spec else Sizes()
    sizes = base.override(vars(args))
    only = (
        set(WORKLOADS)
        if not args.only
        else {w.strip().replace("-", "_") for w in args.only.split(",") if w.strip()}
    )
    unknown = only - set(WORKLOADS)
    if unknown:
        sys.exit(f"unknown workload(s): {', '.join(sorted(unknown))}; choose from {WORKLOADS}")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if args.no_tenure:
        backends = []
    workers = [int(w) for w in args.workers.split(",") if w.strip()] or [1]
    install_cleanup()
    run_dir = Path(tempfile.mkdtemp(prefix="tenure-bench-"))
    meta = _meta(args, sizes, backends, workers, only, run_dir)
    rows: list[Row] = []
    status, t0 = 0, time.perf_counter()
    progress(f"logs and SQLite files in {run_dir}")
    try:
        if not args.no_ceiling and only & {"create", "lookup"}:
            run_ceiling(rows, sizes, run_dir)
        if not args.no_reference and only & {"create", "lookup", "bulk_add", "single", "listing"}:
            run_reference(rows, sizes, only, run_dir)
        for backend in backends:
            run_tenure(rows, sizes, only, backend, workers, run_dir)
    except KeyboardInterrupt:
        status, meta["interrupted"] = 130, True
        progress("interrupted: stopping servers, writing what was measured")
    finally:
        stop_all()
        meta["duration_s"] = round(time.perf_counter() - t0, 1)
        out = args.output / f"{time.strftime('%Y%m%dT%H%M%S')}.json"
        write_json(out, meta, rows)
        header = [
            f"Tenure load benchmark, {meta['started_at']}, {meta['duration_s']} s, "
            f"{os.cpu_count()} CPUs, concurrency {sizes.concurrency}",
            "sizes: " + ", ".join(f"{k}={v}" for k, v in sizes.as_dict().items()),
            f"results: {out}",
        ]
        print(render(rows, header), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
