"""The throughput load generator: wrk replays a list of requests, each sent exactly once.

httpx in the bench process tops out near 2k requests/s on one core, below what the servers
answer, so the throughput workloads (the ceiling, 1 and 2) run through wrk instead: the bench
writes the raw requests to a file, ``replay.lua`` sends each once, times it, counts statuses
(checking bodies against a pattern when asked) and writes a JSON summary and the latencies.
Everything else stays on httpx (``bench.load``).

One wrk thread per connection: request() and response() then alternate within a thread, so the
script times every request itself. wrk's own histogram is not used: wrk "corrects" it for
coordinated omission (adding samples below every response slower than twice the mean), which
here would invent latencies no request had.

wrk's main thread sleeps until its ``-d`` deadline even once every thread has stopped, so the
bench watches for the threads' done flags and ends wrk with SIGINT, as Ctrl-C would.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.load import SCIM_JSON, Req, ms, timing_summary

WRK = "/usr/bin/wrk"
SCRIPT = Path(__file__).resolve().parent / "replay.lua"
# A 2xx look-up must find exactly one user: scim2-server writes `"totalResults": 1`, Tenure
# `"totalResults":1`.
ONE_RESULT = '"totalResults"%s*:%s*1[^%d]'


def version() -> str:
    """``wrk -v``'s first words, or why there is none."""
    try:
        out = subprocess.run(
            [WRK, "-v"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError as exc:
        return f"not available: {exc}"
    return " ".join(out.split()[:3]) or "unknown"


@dataclass(slots=True)
class WrkResult:
    """What wrk measured over one replay, summarised like ``bench.load.Result``."""

    planned: int = 0
    done: int = 0  # requests answered or lost (as ``Result.done``: attempted and over)
    elapsed: float = 0.0  # first request sent to last response received
    wall: float = 0.0  # the wrk process, start to exit
    client_cpu: float = 0.0  # CPU seconds of the wrk process
    latencies: list[float] = field(default_factory=list)  # seconds, in no particular order
    statuses: Counter[int] = field(default_factory=Counter)
    mismatches: int = 0  # 2xx bodies without the expected pattern
    lost: int = 0  # requests sent without a response (socket errors)
    socket_errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    connections: int = 1

    @property
    def errors(self) -> int:
        """Like ``Result.errors``: non-2xx answers, failed requests, and failed checks.

        A read or write error costs the request in flight on that connection (``lost``); a
        failed connect leaves the rest of that connection's share unsent.
        """
        not_2xx = sum(n for code, n in self.statuses.items() if not 200 <= code < 300)
        connect = self.socket_errors.get("connect", 0)
        return not_2xx + self.lost + connect + self.mismatches

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            **timing_summary(self, self.elapsed, lat),
            "client_cpu_pct": round(100 * self.client_cpu / self.wall) if self.wall else None,
            "generator": "wrk",
            "wrk": {
                "connections": self.connections,
                "threads": self.connections,
                "max_ms": ms(lat[-1]) if lat else None,
                "mismatches": self.mismatches,
                "lost": self.lost,
                "socket_errors": self.socket_errors,
            },
        }


def raw_request(host: str, prefix: str, token: str | None, req: Req) -> bytes:
    """One HTTP/1.1 request as it goes on the wire, as ``bench.load.send`` would send it."""
    target = prefix + req.url
    if req.params:
        target += "?" + urlencode(req.params)
    body = b""
    lines = [f"{req.method} {target} HTTP/1.1", f"Host: {host}", f"Accept: {SCIM_JSON}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if req.json is not None:
        body = json.dumps(req.json, separators=(",", ":"), ensure_ascii=False).encode()
        lines.append(f"Content-Type: {SCIM_JSON}")
    if body or req.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Replay:
    """A list of requests written for ``replay.lua``, ready to be sent once each by :meth:`run`.

    Writing the file takes a while for tens of thousands of requests, so callers build it
    before the measured window opens.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        reqs: Sequence[Req],
        expect: str | None = None,
        label: str | None = None,
    ) -> None:
        url = urlsplit(base_url)
        self.origin = f"{url.scheme}://{url.netloc}/"
        self.count = len(reqs)
        self.expect = expect or ""
        self.label = label or (f"{reqs[0].method} {reqs[0].url}" if reqs else "")
        self.dir = Path(tempfile.mkdtemp(prefix="bench-wrk-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.dir, ignore_errors=True)
        self.requests_path = self.dir / "requests"
        with self.requests_path.open("wb") as f:
            for req in reqs:
                raw = raw_request(url.netloc, url.path.rstrip("/"), token, req)
                f.write(b"%d\n" % len(raw) + raw)

    def run(self, concurrency: int, budget_s: float) -> WrkResult:
        """Send every request once over ``concurrency`` connections, within ``budget_s``.

        Never more connections than requests: each thread needs one request at least.
        """
        threads = max(1, min(concurrency, self.count))
        result = WrkResult(planned=self.count, connections=threads)
        if self.count == 0:
            return result
        out = self.dir / "out.json"
        # wrk counts a response slower than --timeout as a timeout (the script still times it);
        # its unused histogram takes 8 bytes per microsecond of --timeout, mostly never touched.
        timeout = max(10, min(60, math.ceil(budget_s)))
        argv = [
            WRK,
            f"--threads={threads}",
            f"--connections={threads}",
            f"--duration={max(1, math.ceil(budget_s))}s",
            f"--timeout={timeout}s",
            f"--script={SCRIPT}",
            self.origin,
            "--",
            str(self.requests_path),
            str(out),
            self.label,
            self.expect,
            str(threads),
        ]
        log_path = self.dir / "wrk.log"
        try:
            with log_path.open("wb") as log:
                t0 = time.perf_counter()
                proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
                status, cpu = _wait(
                    proc, [Path(f"{out}.done{k}") for k in range(threads)], budget_s
                )
                result.wall = time.perf_counter() - t0
            result.client_cpu = cpu
            if status != 0 or not out.exists():
                tail = log_path.read_text(errors="replace")[-600:]
                raise RuntimeError(f"wrk exited with {status}: {tail}")
            _fill(result, json.loads(out.read_text(errors="replace")))
            lat = Path(f"{out}.lat").read_text().split()
            result.latencies = [int(us) / 1e6 for us in lat]
        finally:
            self._cleanup()
        return result


def _wait(proc: subprocess.Popen[bytes], flags: list[Path], budget_s: float) -> tuple[int, float]:
    """Wait for wrk, ending it once every thread is done; (exit status, its CPU seconds).

    ``os.wait4`` reaps wrk and returns its own resource usage, whatever else the bench runs.
    """
    hard_deadline = time.monotonic() + budget_s + 60
    interrupted_at: float | None = None
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                return proc.returncode, usage.ru_utime + usage.ru_stime
            now = time.monotonic()
            if interrupted_at is None and all(f.exists() for f in flags):
                interrupted_at = now
                os.kill(proc.pid, signal.SIGINT)  # not send_signal: it would reap wrk first
            elif interrupted_at is not None and now - interrupted_at > 1:
                interrupted_at = now  # wrk ignores SIGINT for a moment at start: say it again
                os.kill(proc.pid, signal.SIGINT)
            if now > hard_deadline:
                raise RuntimeError("wrk did not stop at its deadline")
            time.sleep(0.002 if interrupted_at is None else 0.01)
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.wait()


def _fill(result: WrkResult, data: dict[str, Any]) -> None:
    first, last = int(data["first_us"]), int(data["last_us"])
    finished = bool(data["finished"]) and last > first > 0
    result.elapsed = (last - first) / 1e6 if finished else int(data["duration_us"]) / 1e6
    result.statuses = Counter({int(k): int(v) for k, v in data["statuses"].items()})
    result.mismatches = int(data["mismatches"])
    result.lost = int(data["lost"])
    result.done = int(data["responses"]) + result.lost  # like httpx's: failed ones count too
    result.socket_errors = {k: int(v) for k, v in data["socket_errors"].items()}
    result.error_samples = [str(s) for s in data["error_samples"]]
    failed = {k: v for k, v in result.socket_errors.items() if v and k != "status"}
    if failed and len(result.error_samples) < 5:
        detail = ", ".join(f"{k} {v}" for k, v in failed.items())
        result.error_samples.append(f"wrk socket errors: {detail}")
