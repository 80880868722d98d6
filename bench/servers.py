"""Server processes under test: start, wait until ready, sample memory and CPU, stop.

Each server runs in its own session (process group), so stopping it reaches uvicorn's worker
processes too. Every started server is also stopped at exit, whatever ended the run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

import httpx

_LIVE: set[ManagedServer] = set()
_CLK_TCK = os.sysconf("SC_CLK_TCK")


class ServerFailed(RuntimeError):
    """A server did not start, or died while being measured."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(root: int) -> list[int]:
    """Pids of every live process below ``root`` (read from /proc, no psutil)."""
    parent_of: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parent_of[int(entry)] = int(fields[1])
    found: list[int] = []
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, pp in parent_of.items() if pp == pid]
        found.extend(children)
        frontier.extend(children)
    return found


def rss_kb(pid: int) -> int:
    """VmRSS of one process in kB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def system_busy_seconds() -> float:
    """CPU time all CPUs spent busy since boot (from /proc/stat), to see who else is running."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _CLK_TCK


class Sampler(threading.Thread):
    """Samples the summed RSS of a server and its children a few times a second."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True, name=f"rss-{root}")
        self.root, self.interval = root, interval
        self.peak_total_kb = 0
        self.peak_single_kb = 0
        self.window_peak_kb = 0
        self.processes = 1
        self._stop_event = threading.Event()

    def pids(self) -> list[int]:
        return [self.root, *descendants(self.root)]

    def sample(self) -> None:
        pids = self.pids()
        sizes = [rss_kb(p) for p in pids]
        total = sum(sizes)
        self.processes = max(self.processes, sum(1 for s in sizes if s))
        self.peak_total_kb = max(self.peak_total_kb, total)
        self.peak_single_kb = max(self.peak_single_kb, max(sizes, default=0))
        self.window_peak_kb = max(self.window_peak_kb, total)

    def take_window_peak(self) -> int:
        """Peak total RSS since the previous call, in kB."""
        self.sample()
        peak, self.window_peak_kb = self.window_peak_kb, 0
        return peak

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()


class ManagedServer:
    """One server process (and its children), stopped on exit whatever happens."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        port: int,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name, self.argv, self.port = name, list(argv), port
        self.root_url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.sampler: Sampler | None = None

    def start(
        self, ready_path: str, headers: Mapping[str, str] | None = None, timeout: float = 60.0
    ) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
            )
        _LIVE.add(self)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ServerFailed(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                r = httpx.get(self.root_url + ready_path, headers=dict(headers or {}), timeout=5)
                if r.status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"{self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}"
                )
            time.sleep(0.1)
        self.sampler = Sampler(self.proc.pid)
        self.sampler.start()

    def check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise ServerFailed(f"{self.name} died:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        if self.proc is None:
            return 0.0
        return sum(cpu_seconds(p) for p in [self.proc.pid, *descendants(self.proc.pid)])

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        proc, self.proc = self.proc, None
        _LIVE.discard(self)
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)  # the group of the process we started, nothing else
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> ManagedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def install_cleanup() -> None:
    """Stop every server at exit, and turn SIGTERM into the same unwinding as Ctrl-C."""
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored


@contextlib.contextmanager
def running(
    server: ManagedServer,
    ready_path: str,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[ManagedServer]:
    try:
        server.start(ready_path, headers, timeout)
        yield server
    finally:
        server.stop()


def venv_bin(name: str) -> str:
    """An executable of the venv running the bench (``tenure``, ``scim2-server``)."""
    return str(Path(sys.executable).parent / name)


def ceiling_server(log_dir: Path) -> ManagedServer:
    port = free_port()
    argv = [sys.executable, "-m", "bench.ceiling", "--port", str(port)]
    return ManagedServer("ceiling", argv, port=port, log_dir=log_dir)


def reference_server(log_dir: Path, token: str) -> ManagedServer:
    """scim2-server as its own command serves it: in memory, threaded wsgiref, under /v2."""
    port = free_port()
    argv = [
        venv_bin("scim2-server"),
        "--hostname",
        "127.0.0.1",
        "--port",
        str(port),
        f"--bearer-token={token}",  # one argument, even for a token that starts with "-"
    ]
    return ManagedServer("scim2-server", argv, port=port, log_dir=log_dir)


def tenure_server(log_dir: Path, name: str, database_url: str, workers: int) -> ManagedServer:
    port = free_port()
    argv = [
        venv_bin("tenure"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    env = {"TENURE_DATABASE_URL": database_url}
    return ManagedServer(name, argv, port=port, log_dir=log_dir, env=env)
