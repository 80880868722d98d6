"""``tenure`` as an operator runs it, in processes of its own: the command line, and a served
``tenure serve`` on a free port, waited for until it answers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

TENURE = str(Path(sys.executable).parent / "tenure")
STARTUP_DEADLINE_SECONDS = 60.0  # a start-up timeout, not an assertion on speed


def cli(database_url: str, *args: str) -> Any:
    """Run ``tenure ARGS --json`` against the database and return its parsed output."""
    env = {**os.environ, "TENURE_DATABASE_URL": database_url}
    done = subprocess.run(
        [TENURE, *args, "--json"], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, f"tenure {' '.join(args)} failed: {done.stderr}"
    return json.loads(done.stdout)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """``tenure serve`` on 127.0.0.1:``port``, its output in ``log_path``."""
    with log_path.open("wb") as log_file:
        return subprocess.Popen(
            [TENURE, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


def wait_until_serving(process: subprocess.Popen[bytes], url: str, token: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"tenure serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            answer = httpx.get(
                f"{url}/ServiceProviderConfig",
                timeout=2.0,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        if answer.status_code == 200:
            return
        time.sleep(0.1)
    pytest.fail(
        f"tenure serve did not answer within {STARTUP_DEADLINE_SECONDS}s:\n{log.read_text()}"
    )
