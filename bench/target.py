"""A server under test as the workloads see it: its URLs, what was built on it, its rows."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.lean import LeanClient, LeanResponse
from bench.load import Outcome, Req, Result, make_client, run_load
from bench.pg import cpu_delta, postgres_cpu
from bench.report import Row, progress
from bench.scim import Population, populate
from bench.servers import ManagedServer, ServerFailed, system_busy_seconds
from bench.sizes import Sizes
from bench.wrk import Replay


class CpuWindow:
    """Who used the CPUs since it was made: the server, its PostgreSQL backends, everyone else.

    Everyone else excludes the bench process itself and the children it waited for, such as wrk
    (their share is ``cli cpu``); a high share there means other jobs on the machine disturbed
    the figures.
    """

    def __init__(self, server: ManagedServer) -> None:
        self.server = server
        self.t0, self.own0 = time.perf_counter(), _own_cpu()
        self.server0, self.db0 = server.cpu_seconds(), postgres_cpu()
        self.busy0 = system_busy_seconds()

    def shares(self) -> tuple[float | None, float | None, float | None]:
        wall = time.perf_counter() - self.t0
        if wall <= 0:
            return None, None, None
        server = self.server.cpu_seconds() - self.server0
        db = cpu_delta(self.db0, postgres_cpu())
        own = _own_cpu() - self.own0
        other = max(0.0, system_busy_seconds() - self.busy0 - server - db - own)
        return (round(100 * server / wall), round(100 * db / wall), round(100 * other / wall))


def _own_cpu() -> float:
    """CPU seconds of the bench process and of its children that ended (wrk, CLI commands)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class Skipped(Exception):
    """A workload cannot run on this server (yet); the row says why, with no numbers."""


def _annotate(row: Row, result: Outcome | None) -> None:
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
    # Where autovacuum is off (bench.pg.Analyzer): ANALYZE after a bulk load, and what
    # autovacuum would have analysed by the start of each measured workload.
    settle: Callable[[], None] | None = None
    catch_up: Callable[[], None] | None = None

    def measure(
        self,
        key: str,
        title: str,
        size: str,
        body: Callable[[], tuple[Outcome | None, dict[str, Any], str]],
        setup: Callable[[], None] | None = None,
    ) -> Row:
        """Run one workload, with the server's CPU and peak RSS over ``body``; never raises.

        ``setup`` runs first, outside the CPU and RSS window; its errors end the workload too.
        """
        assert self.server.sampler is not None
        if self.catch_up is not None:
            self.catch_up()  # untimed: before the CPU window opens
        result: Outcome | None = None
        extra: dict[str, Any] = {}
        cpu = CpuWindow(self.server)
        try:
            if setup is not None:
                setup()
            self.server.sampler.take_window_peak()
            cpu = CpuWindow(self.server)
            result, extra, note = body()
        except Skipped as exc:
            note = f"skipped: {exc}"[:300]
        except (Exception, ServerFailed) as exc:
            note = f"failed: {type(exc).__name__}: {exc}"[:300]
        server, db, other = cpu.shares()
        row = Row(
            key,
            title,
            self.server_kind,
            self.run,
            size,
            stats=result.summary() if result is not None else None,
            extra=extra,
            note=note,
            server_cpu_pct=server,
            rss_peak_mb=round(self.server.sampler.take_window_peak() / 1024, 1),
            db_cpu_pct=db,
            other_cpu_pct=other,
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
        on_response: Callable[[int, LeanResponse], str | None] | None = None,
        concurrency: int | None = None,
    ) -> Result:
        c = self.sizes.concurrency if concurrency is None else concurrency
        return run_load(self.scim_url, self.token, make, count, c, self.sizes.budget_s, on_response)

    def replay(
        self,
        key: str,
        title: str,
        size: str,
        make: Callable[[int], Req],
        count: int,
        expect: str | None = None,
    ) -> Row:
        """Measure a throughput workload: wrk sends ``make(i)`` once for i in range(count).

        The requests are written out before the measured window opens; ``expect`` is a Lua
        pattern every 2xx body must match (see ``bench/replay.lua``).
        """
        prepared: list[Replay] = []

        def setup() -> None:
            reqs = [make(i) for i in range(count)]
            prepared.append(Replay(self.scim_url, self.token, reqs, expect))

        def body() -> tuple[Outcome, dict[str, Any], str]:
            return prepared[0].run(self.sizes.concurrency, self.sizes.budget_s), {}, ""

        return self.measure(key, title, size, body, setup)

    def client(self) -> LeanClient:
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
                self.sizes.budget_s * 3,
            )
            users_s = (len(self.pop.ids) - before) / r.elapsed if r.elapsed else None
            return (
                r,
                {"users_per_s": users_s},
                (f"{self.pop.method}; {users_s or 0:,.0f} users/s; now {len(self.pop.ids)} users"),
            )

        self.measure("populate", "populate users", f"+{total - before:,}", body)
        self.settled()

    def settled(self) -> None:
        """Let the database catch up on statistics after a bulk load (untimed)."""
        if self.settle is not None:
            self.settle()


def _brief(row: Row) -> str:
    if row.stats is None:
        return row.note
    return (
        f"{row.get('requests')} req, {row.get('rps')} req/s, p50 {row.get('p50_ms')} ms, "
        f"{row.get('errors')} errors {row.note}"
    ).rstrip()
