"""Rows of figures, the ratios and targets drawn from them, the table, and the JSON file."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_T0 = time.monotonic()


def progress(message: str) -> None:
    """One line on stderr, with the seconds since the run started."""
    print(f"[{time.monotonic() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass(slots=True)
class Row:
    """One measured (or skipped) workload on one server run."""

    key: str  # e.g. "create", "lookup.userName", "single.okta.add.large"
    title: str  # what the table shows
    server: str  # "tenure", "scim2-server", "ceiling"
    run: str  # "tenure/postgresql w1", "scim2-server/memory", "ceiling"
    size: str
    stats: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    server_cpu_pct: float | None = None
    rss_peak_mb: float | None = None
    db_cpu_pct: float | None = None  # PostgreSQL's processes over the workload
    other_cpu_pct: float | None = None  # everything else on the machine (other users' jobs)

    def get(self, name: str) -> Any:
        return (self.stats or {}).get(name)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def table(rows: Iterable[Row]) -> str:
    head = (
        "run",
        "workload",
        "size",
        "n",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "err",
        "srv cpu",
        "cli cpu",
        "db cpu",
        "other",
        "rss MB",
        "note",
    )
    lines: list[tuple[str, ...]] = [head]
    for r in rows:
        cpu = f"{r.server_cpu_pct:.0f}%" if r.server_cpu_pct is not None else "-"
        lines.append(
            (
                r.run,
                r.title,
                r.size,
                _fmt(r.get("requests")),
                _fmt(r.get("rps")),
                _fmt(r.get("p50_ms"), 2),
                _fmt(r.get("p95_ms"), 2),
                _fmt(r.get("p99_ms"), 2),
                _fmt(r.get("errors")),
                cpu,
                f"{r.get('client_cpu_pct')}%" if r.get("client_cpu_pct") is not None else "-",
                _pct(r.db_cpu_pct),
                _pct(r.other_cpu_pct),
                _fmt(r.rss_peak_mb, 0),
                " ".join(r.note.split()),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
    out = []
    for n, line in enumerate(lines):
        cells = [
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=False))
        ]
        out.append("  ".join([*cells, line[-1]]).rstrip())
        if n == 0:
            out.append("-" * min(160, len(out[0]) + 20))
    return "\n".join(out)


def render(rows: list[Row], header: list[str]) -> str:
    from bench.targets import targets

    ratios, verdicts = targets(rows)
    parts = [*header, "", table(rows), ""]
    if ratios:
        parts += ["Ratios:", *(f"  {line}" for line in ratios), ""]
    if verdicts:
        parts.append("Targets (informational):")
        width = max(len(v.run) + len(v.target) for v in verdicts) + 3
        parts += [
            f"  {v.status:<4}  {(v.run + ': ' + v.target).ljust(width)} {v.value}" for v in verdicts
        ]
    return "\n".join(parts)


def write_json(path: Path, meta: dict[str, Any], rows: list[Row]) -> None:
    from bench.targets import targets

    ratios, verdicts = targets(rows)
    data = {
        **meta,
        "rows": [asdict(r) for r in rows],
        "ratios": ratios,
        "targets": [asdict(v) for v in verdicts],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
