"""Tenure's ratios to scim2-server and to the ceiling, and the targets (informational only).

A figure from a row with errors is not compared: a server that answers 400 fast is not fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.report import Row

REF = {"server": "scim2-server"}
CEIL = {"server": "ceiling"}


@dataclass(slots=True)
class Verdict:
    run: str
    target: str
    value: str
    status: str  # PASS, MISS, or n/a (not measured, or not comparable)


@dataclass(frozen=True, slots=True)
class Figure:
    value: float | None
    why: str = ""  # why value is None

    def show(self, fmt: str) -> str:
        return fmt.format(self.value) if self.value is not None else f"n/a ({self.why})"


def _row(
    rows: list[Row], key: str, run: str | None = None, server: str | None = None
) -> Row | None:
    for r in rows:
        if r.key == key and run in (None, r.run) and server in (None, r.server):
            return r
    return None


def figure(rows: list[Row], key: str, name: str, **where: str) -> Figure:
    r = _row(rows, key, **where)
    if r is None or not r.get("requests"):
        return Figure(None, f"{key} not measured on {' '.join(where.values())}")
    if r.get("errors"):
        return Figure(None, f"{r.get('errors')} errors in {r.run} {r.title}")
    return Figure(r.get(name))


def lookup_rps(rows: list[Row], **where: str) -> Figure:
    parts = [_row(rows, k, **where) for k in ("lookup.userName", "lookup.externalId")]
    for k in ("lookup.userName", "lookup.externalId"):
        f = figure(rows, k, "rps", **where)
        if f.value is None:
            return f
    done = sum(r.get("requests") for r in parts if r)
    elapsed = sum(r.get("elapsed_s") for r in parts if r)
    return Figure(done / elapsed if elapsed else None, "no time")


def ceiling(rows: list[Row], key: str, run: str | None = None) -> Figure:
    """The ceiling's highest reading without errors among those taken around ``run``'s rows
    (just before and just after them), or among all when none was: the machine's speed drifts
    over minutes, so Tenure is compared with the ceiling of the same minutes, and a slow
    moment must not make its share look larger."""
    ours = [r for r in rows if r.key == key and r.server == CEIL["server"]]
    if run is not None and any(r.extra.get("near") == run for r in ours):
        ours = [r for r in ours if r.extra.get("near") == run]
    readings = [f for r in ours for f in [figure([r], key, "rps", **CEIL)] if f.value is not None]
    if not readings:
        return figure(rows, key, "rps", **CEIL)  # says why there is none
    return max(readings, key=lambda f: f.value or 0.0)


def ratio(a: Figure, b: Figure) -> Figure:
    if a.value is None:
        return a
    if b.value is None:
        return b
    return Figure(a.value / b.value) if b.value else Figure(None, "division by zero")


def verdict(run: str, target: str, f: Figure, ok: bool, fmt: str) -> Verdict:
    if f.value is None:
        return Verdict(run, target, f.show(fmt), "n/a")
    return Verdict(run, target, f.show(fmt), "PASS" if ok else "MISS")


def targets(rows: list[Row]) -> tuple[list[str], list[Verdict]]:
    ratios: list[str] = []
    out: list[Verdict] = []
    for run in dict.fromkeys(r.run for r in rows if r.server == "tenure"):
        me = {"run": run}
        for label, mine, ref, top in (
            (
                "creates",
                figure(rows, "create", "rps", **me),
                figure(rows, "create", "rps", **REF),
                ceiling(rows, "ceiling.post", run),
            ),
            (
                "look-ups",
                lookup_rps(rows, **me),
                lookup_rps(rows, **REF),
                ceiling(rows, "ceiling.get", run),
            ),
        ):
            if _row(rows, "create" if label == "creates" else "lookup.userName", **me) is None:
                continue
            vs_ref, vs_top = ratio(mine, ref), ratio(mine, top)
            ratios.append(
                f"{run} {label}: tenure/scim2-server = {vs_ref.show('{:.1f}x')}, "
                f"tenure/ceiling = {vs_top.show('{:.1%}')}"
            )
            out.append(
                verdict(
                    run, f"{label} >= 3x scim2-server", vs_ref, (vs_ref.value or 0) >= 3, "{:.1f}x"
                )
            )
            out.append(
                verdict(
                    run, f"{label} >= 25% of ceiling", vs_top, (vs_top.value or 0) >= 0.25, "{:.1%}"
                )
            )
        for label, key in (("reads by id", "read.id"), ("user PATCHes", "patch.user")):
            if _row(rows, key, **me) is not None:  # no target: for information
                vs = ratio(figure(rows, key, "rps", **me), figure(rows, key, "rps", **REF))
                ratios.append(f"{run} {label}: tenure/scim2-server = {vs.show('{:.1f}x')}")
        _single(rows, run, ratios, out)
        if _row(rows, "listing", **me) is not None:
            sp = ratio(
                figure(rows, "listing", "p50_ms", **REF), figure(rows, "listing", "p50_ms", **me)
            )
            ratios.append(f"{run} group listing: p50 scim2-server/tenure = {sp.show('{:.0f}x')}")
            out.append(
                verdict(
                    run,
                    "group listing >= 50x faster than scim2-server",
                    sp,
                    (sp.value or 0) >= 50,
                    "{:.0f}x",
                )
            )
        if _row(rows, "restore", **me) is not None:
            f = figure(rows, "restore", "p50_ms", **me)
            if f.value is None and (r := _row(rows, "restore", **me)) and r.note:
                f = Figure(None, r.note[:20] + " ... " + r.note[-90:])
            out.append(
                verdict(run, "restore of history p50 < 1 s", f, (f.value or 0) < 1000, "{:.0f} ms")
            )
        rss = _row(rows, "rss", **me)
        if rss is not None and rss.rss_peak_mb is not None:
            out.append(
                verdict(
                    run,
                    "server RSS < 300 MB",
                    Figure(rss.rss_peak_mb),
                    rss.rss_peak_mb < 300,
                    "{:.0f} MB",
                )
            )
    return ratios, out


def _single(rows: list[Row], run: str, ratios: list[str], out: list[Verdict]) -> None:
    """Single add/remove: flat from the small to the big group, and far ahead of scim2-server."""
    me = {"run": run}
    flat: list[Figure] = []
    speed: list[Figure] = []
    for form in ("okta", "entra"):
        for op in ("add", "remove"):
            key = f"single.{form}.{op}"
            if _row(rows, f"{key}.large", **me) is None:
                continue
            large = figure(rows, f"{key}.large", "p50_ms", **me)
            growth = ratio(large, figure(rows, f"{key}.small", "p50_ms", **me))
            ahead = ratio(figure(rows, f"{key}.large", "p50_ms", **REF), large)
            flat.append(growth)
            speed.append(ahead)
            ratios.append(
                f"{run} single {op} ({form}): p50 big/small group = "
                f"{growth.show('{:.2f}x')}; scim2-server(big)/tenure(big) = "
                f"{ahead.show('{:.0f}x')}"
            )
    if flat:
        worst = _worst(flat, max)
        out.append(
            verdict(
                run,
                "single add/remove p50 big <= 1.5x small",
                worst,
                (worst.value or 0) <= 1.5,
                "worst {:.2f}x",
            )
        )
    if speed:
        worst = _worst(speed, min)
        out.append(
            verdict(
                run,
                "single add/remove >= 50x faster than scim2-server",
                worst,
                (worst.value or 0) >= 50,
                "worst {:.0f}x",
            )
        )


def _worst(figures: list[Figure], pick: Callable[[list[float]], float]) -> Figure:
    usable = [f.value for f in figures if f.value is not None]
    skipped = [f.why for f in figures if f.value is None]
    if not usable:
        return Figure(None, skipped[0] if skipped else "not measured")
    return Figure(pick(usable))
