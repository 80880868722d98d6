"""``python -m bench``: load-test Tenure against scim2-server and a trivial-endpoint ceiling.

Every server runs in its own process on 127.0.0.1 and is stopped at the end, whatever ends the
run. The table goes to stdout, progress to stderr, and the figures to bench/results/<time>.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import wrk
from bench.report import Row, progress, render, write_json
from bench.runs import run_ceiling, run_reference, run_tenure
from bench.servers import install_cleanup, stop_all
from bench.sizes import Sizes

WORKLOADS = ("create", "lookup", "bulk_add", "single", "listing", "sync", "restore", "drift")
RESULTS = Path(__file__).resolve().parent / "results"
# Rows driven by wrk (bench/wrk.py); every other row, and the population, by bench/lean.py.
WRK_ROWS = (
    "ceiling.get",
    "ceiling.post",
    "create",
    "lookup.userName",
    "lookup.externalId",
    "read.id",
    "patch.user",
)


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
        help="Tenure worker counts on PostgreSQL, run from the most to the fewest (create and "
        "look-up run for each; everything else on the fewest); SQLite uses the first only",
    )
    p.add_argument("--no-reference", action="store_true", help="skip scim2-server")
    p.add_argument("--no-tenure", action="store_true", help="skip Tenure (measure the others)")
    p.add_argument("--no-ceiling", action="store_true", help="skip the trivial-endpoint ceiling")
    p.add_argument(
        "--no-analyze",
        action="store_true",
        help="do not stand in for autovacuum when it is off (see bench/pg.py)",
    )
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
        "spec": args.spec,
        "below_spec": sizes.below_spec(),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
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
        "load_generator": {
            "wrk": {
                "version": wrk.version(),
                "rows": list(WRK_ROWS),
                "how": "each request of a list sent once and timed by bench/replay.lua, "
                f"{sizes.concurrency} connections, one wrk thread each; cli cpu is wrk's",
            },
            "http.client": {
                "version": platform.python_version(),
                "rows": "all others, and the population for look-ups",
                "how": "bench/lean.py: one keep-alive client per thread, in the bench process; "
                "cli cpu is the bench process's",
            },
        },
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
    if only & {"create", "lookup"} and not os.access(wrk.WRK, os.X_OK):
        sys.exit(f"{wrk.WRK} not found: `make bench` installs it (apt-get install wrk)")
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
        if not args.no_ceiling and not backends and only & {"create", "lookup"}:
            run_ceiling(rows, sizes, run_dir)  # Tenure's runs read it themselves, around theirs
        if not args.no_reference and only & {"create", "lookup", "bulk_add", "single", "listing"}:
            run_reference(rows, sizes, only, run_dir)
        for backend in backends:
            run_tenure(
                rows,
                sizes,
                only,
                backend,
                workers,
                run_dir,
                not args.no_analyze,
                not args.no_ceiling,
            )
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
            "below the spec's sizes (--spec runs those): "
            + (", ".join(sizes.below_spec()) or "none"),
            f"load average at start: {meta['loadavg']}; 'other' = CPU used by other jobs "
            "on this machine during a workload (high = disturbed figures)",
            "load generators: wrk for the ceiling, 1 (create) and 2 (look-ups), each request "
            f"sent once over {sizes.concurrency} connections; http.client threads for the rest "
            "(cli cpu = wrk's CPU on wrk rows, the bench process's on the others)",
            "the ceiling is a trivial endpoint on Tenure's own stack (Starlette, uvicorn, "
            "httptools, uvloop) driven by wrk like 1 and 2, so tenure/ceiling reads as: the share "
            "of what that stack serves on this machine that Tenure's creates and look-ups reach",
            f"results: {out}",
        ]
        print(render(rows, header), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
