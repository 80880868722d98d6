"""Rows of figures, the ratios and targets drawn from them, the table, and the JSON file."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


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

    def get(self, name: str) -> Any:
        return (self.stats or {}).get(name)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(rows: Iterable[Row]) -> str:
    head = ("run", "workload", "size", "n", "req/s", "p50 ms", "p95 ms", "p99 ms", "err",
            "srv cpu", "note")
    lines: list[tuple[str, ...]] = [head]
    for r in rows:
        cpu = f"{r.server_cpu_pct:.0f}%" if r.server_cpu_pct is not None else "-"
        lines.append((r.run, r.title, r.size, _fmt(r.get("requests")), _fmt(r.get("rps")),
                      _fmt(r.get("p50_ms"), 2), _fmt(r.get("p95_ms"), 2), _fmt(r.get("p99_ms"), 2),
                      _fmt(r.get("errors")), cpu, r.note))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
    out = []
    for n, line in enumerate(lines):
        cells = [c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths,
                                                                                   strict=False))]
        out.append("  ".join([*cells, line[-1]]).rstrip())
        if n == 0:
            out.append("-" * min(160, len(out[0]) + 20))
    return "\n".join(out)


def _find(rows: list[Row], key: str, run: str | None = None, server: str | None = None) -> Row | None:
    for r in rows:
        if r.key == key and (run is None or r.run == run) and (server is None or r.server == server):
            if r.stats and r.get("requests"):
                return r
    return None


def _lookup_rps(rows: list[Row], **where: str) -> float | None:
    found = [_find(rows, k, **where) for k in ("lookup.userName", "lookup.externalId")]
    if not all(found):
        return None
    done = sum(r.get("requests") for r in found if r)
    elapsed = sum(r.get("elapsed_s") for r in found if r)
    return done / elapsed if elapsed else None


def _rps(rows: list[Row], key: str, **where: str) -> float | None:
    row = _find(rows, key, **where)
    return row.get("rps") if row else None


def _p50(rows: list[Row], key: str, **where: str) -> float | None:
    row = _find(rows, key, **where)
    return row.get("p50_ms") if row else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


@dataclass(slots=True)
class Verdict:
    run: str
    target: str
    value: str
    status: str  # PASS, MISS, or n/a (not measured)


def _verdict(run: str, target: str, value: float | None, ok: bool | None, fmt: str) -> Verdict:
    if value is None or ok is None:
        return Verdict(run, target, "not measured", "n/a")
    return Verdict(run, target, fmt.format(value), "PASS" if ok else "MISS")


def targets(rows: list[Row]) -> tuple[list[str], list[Verdict]]:
    """Ratios of each Tenure run to scim2-server and to the ceiling, and the targets (info only)."""
    ratios: list[str] = []
    verdicts: list[Verdict] = []
    ref = {"server": "scim2-server"}
    ceil = {"server": "ceiling"}
    tenure_runs = list(dict.fromkeys(r.run for r in rows if r.server == "tenure"))
    for run in tenure_runs:
        me = {"run": run}
        for label, mine, theirs, top in (
            ("creates", _rps(rows, "create", **me), _rps(rows, "create", **ref),
             _rps(rows, "ceiling.post", **ceil)),
            ("look-ups", _lookup_rps(rows, **me), _lookup_rps(rows, **ref),
             _rps(rows, "ceiling.get", **ceil)),
        ):
            vs_ref, vs_top = _ratio(mine, theirs), _ratio(mine, top)
            if mine is None:
                continue
            ratios.append(f"{run} {label}: tenure/scim2-server = "
                          f"{'-' if vs_ref is None else f'{vs_ref:.1f}x'}, tenure/ceiling = "
                          f"{'-' if vs_top is None else f'{vs_top:.0%}'}")
            verdicts.append(_verdict(run, f"{label} >= 3x scim2-server", vs_ref,
                                     None if vs_ref is None else vs_ref >= 3, "{:.1f}x"))
            verdicts.append(_verdict(run, f"{label} >= 25% of ceiling", vs_top,
                                     None if vs_top is None else vs_top >= 0.25, "{:.0%}"))
        flat, speedup = [], []
        for form in ("okta", "entra"):
            for op in ("add", "remove"):
                small = _p50(rows, f"single.{form}.{op}.small", **me)
                large = _p50(rows, f"single.{form}.{op}.large", **me)
                theirs = _p50(rows, f"single.{form}.{op}.large", **ref)
                if small and large:
                    flat.append(large / small)
                    ratios.append(f"{run} single {form} {op}: p50 large/small = {large / small:.2f}")
                if large and theirs:
                    speedup.append(theirs / large)
                    ratios.append(f"{run} single {form} {op}: scim2-server(large)/tenure(large)"
                                  f" = {theirs / large:.0f}x")
        if flat:
            verdicts.append(_verdict(run, "single add/remove p50 large <= 1.5x small", max(flat),
                                     max(flat) <= 1.5, "worst {:.2f}x"))
        if speedup:
            verdicts.append(_verdict(run, "single add/remove >= 50x faster than scim2-server",
                                     min(speedup), min(speedup) >= 50, "worst {:.0f}x"))
        mine_list, ref_list = _p50(rows, "listing", **me), _p50(rows, "listing", **ref)
        if mine_list is not None:
            sp = _ratio(ref_list, mine_list)
            ratios.append(f"{run} group listing: scim2-server/tenure p50 = "
                          f"{'-' if sp is None else f'{sp:.0f}x'}")
            verdicts.append(_verdict(run, "group listing >= 50x faster than scim2-server", sp,
                                     None if sp is None else sp >= 50, "{:.0f}x"))
        restore = _p50(rows, "restore", **me)
        if restore is not None:
            verdicts.append(_verdict(run, "restore of history p50 < 1 s", restore,
                                     restore < 1000, "{:.0f} ms"))
        rss = next((r for r in rows if r.key == "rss" and r.run == run), None)
        if rss is not None and rss.rss_peak_mb is not None:
            verdicts.append(_verdict(run, "server RSS < 300 MB", rss.rss_peak_mb,
                                     rss.rss_peak_mb < 300, "{:.0f} MB"))
    return ratios, verdicts


def render(rows: list[Row], header: list[str]) -> str:
    ratios, verdicts = targets(rows)
    parts = [*header, "", table(rows), ""]
    if ratios:
        parts += ["Ratios:", *(f"  {line}" for line in ratios), ""]
    if verdicts:
        parts.append("Targets (informational):")
        width = max(len(v.run) + len(v.target) for v in verdicts) + 3
        parts += [f"  {v.status:<4}  {(v.run + ': ' + v.target).ljust(width)} {v.value}"
                  for v in verdicts]
    return "\n".join(parts)


def write_json(path: Path, meta: dict[str, Any], rows: list[Row]) -> None:
    ratios, verdicts = targets(rows)
    data = {**meta, "rows": [asdict(r) for r in rows], "ratios": ratios,
            "targets": [asdict(v) for v in verdicts]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
