"""A server under test as the workloads see it: its URLs, what was built on it, its rows."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.load import Req, Result, make_client, run_load
from bench.report import Row, progress
from bench.scim import Population, populate
from bench.servers import ManagedServer, ServerFailed
from bench.sizes import Sizes


class Skipped(Exception):
    """A workload cannot run on this server (yet); the row says why, with no numbers."""


def _annotate(row: Row, result: Result | None) -> None:
    """Say in the note when a loop hit its deadline, and what the first error was."""
    notes = [row.note] if row.note else []
    if result is not None and result.done < result.planned:
        notes.append(f"time-bounded: {result.done}/{result.planned}")
    if result is not None and result.error_samples:
        notes.append(f"1st error: {result.error_samples[0][:160]}")
    row.note = "; ".join(notes)


@dataclass(slots=True)
class Target:
    """One running server under test, and what the workloads built on it so far."""

    server_kind: str  # "tenure" or "scim2-server"
    run: str  # label in the table
    server: ManagedServer
    scim_url: str
    token: str
    sizes: Sizes
    pop: Population
    rows: list[Row] = field(default_factory=list)
    big_group: tuple[str, int] | None = None  # (id, members) built by the bulk-add workload
    admin: Any = None  # bench.admin.Admin for Tenure

    def measure(
        self,
        key: str,
        title: str,
        size: str,
        body: Callable[[], tuple[Result | None, dict[str, Any], str]],
    ) -> Row:
        """Run one workload, with the server's CPU and peak RSS over it; never raises on errors."""
        assert self.server.sampler is not None
        self.server.sampler.take_window_peak()
        cpu0, t0 = self.server.cpu_seconds(), time.perf_counter()
        try:
            result, extra, note = body()
        except Skipped as exc:
            result, extra, note = None, {}, f"skipped: {exc}"[:300]
        except (Exception, ServerFailed) as exc:
            result, extra, note = None, {}, f"failed: {type(exc).__name__}: {exc}"[:300]
        wall = time.perf_counter() - t0
        cpu = self.server.cpu_seconds() - cpu0
        row = Row(
            key,
            title,
            self.server_kind,
            self.run,
            size,
            stats=result.summary() if result is not None else None,
            extra=extra,
            note=note,
            server_cpu_pct=round(100 * cpu / wall) if wall > 0 else None,
            rss_peak_mb=round(self.server.sampler.take_window_peak() / 1024, 1),
        )
        _annotate(row, result)
        self.rows.append(row)
        progress(f"{self.run}: {title} [{size}] {_brief(row)}")
        self.server.check_alive()
        return row

    def record(self, key: str, title: str, size: str, result: Result, note: str = "") -> None:
        """Add a row measured by the caller (no server CPU or RSS window of its own)."""
        row = Row(key, title, self.server_kind, self.run, size, result.summary(), note=note)
        _annotate(row, result)
        self.rows.append(row)
        progress(f"{self.run}: {title} [{size}] {_brief(row)}")

    def load(
        self,
        make: Callable[[int], Req],
        count: int,
        on_response: Callable[[int, httpx.Response], str | None] | None = None,
        concurrency: int | None = None,
    ) -> Result:
        c = self.sizes.concurrency if concurrency is None else concurrency
        return run_load(self.scim_url, self.token, make, count, c, self.sizes.budget_s, on_response)

    def client(self) -> httpx.Client:
        return make_client(self.scim_url, self.token)

    def ensure_population(self, total: int) -> None:
        if len(self.pop.ids) >= total:
            return
        before = len(self.pop.ids)

        def body() -> tuple[Result, dict[str, Any], str]:
            r = populate(
                self.pop,
                self.scim_url,
                self.token,
                total,
                self.sizes.concurrency,
                self.sizes.budget_s * 5,
            )
            users_s = (len(self.pop.ids) - before) / r.elapsed if r.elapsed else None
            return (
                r,
                {"users_per_s": users_s},
                (f"{self.pop.method}; {users_s or 0:,.0f} users/s; now {len(self.pop.ids)} users"),
            )

        self.measure("populate", "populate users", f"+{total - before:,}", body)


def _brief(row: Row) -> str:
    if row.stats is None:
        return row.note
    return (
        f"{row.get('requests')} req, {row.get('rps')} req/s, p50 {row.get('p50_ms')} ms, "
        f"{row.get('errors')} errors {row.note}"
    ).rstrip()
