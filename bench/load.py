"""The latency load generator: a few threads, each with its own keep-alive client
(``bench.lean``: http.client, which costs a sixth of httpx's CPU per request).

The throughput workloads (the ceiling, 1 and 2) run through wrk instead (``bench.wrk``): a
Python client tops out near 2k requests/s on one core, below what the servers answer.
Every loop is bounded twice: by a request count and a deadline.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from bench.lean import LeanClient, LeanResponse

SCIM_JSON = "application/scim+json"


@dataclass(frozen=True, slots=True)
class Req:
    """One request, relative to the client's base URL."""

    method: str
    url: str
    json: Any = None
    params: dict[str, str] | None = None


class Outcome(Protocol):
    """What a workload's loop hands back: a ``Result`` or a ``bench.wrk.WrkResult``."""

    planned: int
    error_samples: list[str]
    statuses: Counter[int]

    @property
    def done(self) -> int: ...

    @property
    def errors(self) -> int: ...

    def summary(self) -> dict[str, Any]: ...


@dataclass(slots=True)
class Result:
    """Latencies and outcomes of one loop of requests."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    planned: int = 0
    elapsed: float = 0.0
    client_cpu: float = 0.0  # CPU seconds the bench process spent during the loop

    @property
    def done(self) -> int:
        return len(self.latencies)

    def record_error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message[:300])

    def merge(self, other: Result) -> None:
        self.latencies.extend(other.latencies)
        self.statuses.update(other.statuses)
        self.errors += other.errors
        room = 5 - len(self.error_samples)
        self.error_samples.extend(other.error_samples[: max(room, 0)])
        self.planned += other.planned
        self.elapsed += other.elapsed
        self.client_cpu += other.client_cpu

    def summary(self) -> dict[str, Any]:
        cpu = self.client_cpu
        return {
            **timing_summary(self, self.elapsed, sorted(self.latencies)),
            "client_cpu_pct": round(100 * cpu / self.elapsed) if self.elapsed and cpu else None,
            "generator": "http.client",
        }


def timing_summary(outcome: Outcome, elapsed: float, lat: Sequence[float]) -> dict[str, Any]:
    """The figures every row reports, from its sorted latencies (seconds)."""
    return {
        "requests": outcome.done,
        "planned": outcome.planned,
        "elapsed_s": round(elapsed, 3),
        "rps": round(outcome.done / elapsed, 1) if elapsed > 0 else None,
        "p50_ms": ms(percentile(lat, 50)),
        "p95_ms": ms(percentile(lat, 95)),
        "p99_ms": ms(percentile(lat, 99)),
        "errors": outcome.errors,
        "statuses": {str(k): v for k, v in sorted(outcome.statuses.items())},
        "error_samples": outcome.error_samples,
        "truncated": outcome.done < outcome.planned,
    }


def percentile(sorted_values: Sequence[float], pct: float) -> float | None:
    """Linear-interpolated percentile of already sorted values (None when empty)."""
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * pct / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def make_client(base_url: str, token: str | None) -> LeanClient:
    headers = {"Accept": SCIM_JSON}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return LeanClient(base_url, headers=headers)


def send(client: LeanClient, req: Req) -> LeanResponse:
    headers = {"Content-Type": SCIM_JSON} if req.json is not None else None
    return client.request(req.method, req.url, json=req.json, params=req.params, headers=headers)


OnResponse = Callable[[int, LeanResponse], "str | None"]
Task = Callable[[LeanClient, int, Result], None]


def run_tasks(
    base_url: str, token: str | None, task: Task, count: int, concurrency: int, budget_s: float
) -> Result:
    """Run ``task(client, i, result)`` for i in range(count) from ``concurrency`` threads.

    Each thread has its own keep-alive client and its own partial result; the loop stops at
    ``count`` tasks or at the deadline, whichever comes first (``truncated`` in the summary).
    """
    result = Result(planned=count)
    lock = threading.Lock()
    next_index = 0
    deadline = time.monotonic() + budget_s

    def worker() -> None:
        nonlocal next_index
        local = Result()
        try:
            with make_client(base_url, token) as client:
                while time.monotonic() < deadline:
                    with lock:
                        i = next_index
                        next_index += 1
                    if i >= count:
                        break
                    task(client, i, local)
        except Exception as exc:  # a bug in a task must not hang or kill the run
            local.record_error(f"load thread stopped: {type(exc).__name__}: {exc}")
        with lock:
            result.merge(local)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, concurrency))]
    cpu0, t0 = time.process_time(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed = time.perf_counter() - t0
    result.client_cpu = time.process_time() - cpu0
    result.planned = count
    return result


def run_load(
    base_url: str,
    token: str | None,
    make: Callable[[int], Req],
    count: int,
    concurrency: int,
    budget_s: float,
    on_response: OnResponse | None = None,
) -> Result:
    """Send ``make(i)`` for i in range(count); see :func:`run_tasks` for the bounds.

    A response is an error when it is not 2xx, when the request raised, or when
    ``on_response`` (which sees each 2xx response, to check it or collect ids; it must be
    thread-safe) returns a message. Errors are counted, never raised.
    """

    def task(client: LeanClient, i: int, result: Result) -> None:
        resp = timed(client, make(i), result)
        if resp is not None and resp.is_success and on_response is not None:
            problem = on_response(i, resp)
            if problem:
                result.record_error(problem)

    return run_tasks(base_url, token, task, count, concurrency, budget_s)


def timed(client: LeanClient, req: Req, result: Result) -> LeanResponse | None:
    """Send one request on an open client, recording it into ``result``."""
    t0 = time.perf_counter()
    try:
        resp = send(client, req)
    except httpx.HTTPError as exc:
        result.latencies.append(time.perf_counter() - t0)
        result.record_error(f"{req.method} {req.url} -> {type(exc).__name__}: {exc}")
        return None
    dt = time.perf_counter() - t0
    result.latencies.append(dt)
    result.elapsed += dt
    result.statuses[resp.status_code] += 1
    if not resp.is_success:
        result.record_error(f"{req.method} {req.url} -> {resp.status_code}: {resp.text}")
    return resp
