"""The bench's own databases: a fresh one per backend, and ANALYZE when autovacuum is off.

With autovacuum off (as on this kind of machine), PostgreSQL keeps the statistics of the empty
tables while the bench loads tens of thousands of rows, and plans stay those of an empty table.
Production runs autovacuum, so by default the bench stands in for it with autovacuum's own rule
(a table changed by 50 rows and a tenth of its size), applied before each measured workload, and
says so; ``--no-analyze`` measures the raw behaviour.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg

from bench.servers import cpu_seconds

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/{db}"
PG_DB = "tenure_bench"


def prepare_database(backend: str, run_dir: Path) -> str:
    """A fresh, empty database for one backend; returns its TENURE_DATABASE_URL."""
    if backend == "sqlite":
        path = run_dir / "tenure.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"


def autovacuum_on() -> bool:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
    return bool(row and row[0] == "on")


# What autovacuum analyses on each round (its defaults): a table changed by at least 50 rows
# and a tenth of its size since its last ANALYZE. An empty, untouched table is never analysed,
# so the planner keeps treating it as a table that may grow (see ``migrate.analyze``).
_DUE = """
    SELECT format('%I', s.relname) FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.n_mod_since_analyze >= 50 + 0.1 * greatest(c.reltuples, 0)
"""
_WITH_ROWS = """
    SELECT format('%I', c.relname) FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
    WHERE c.relkind = 'r' AND pg_relation_size(c.oid) > 0
"""


class Analyzer:
    """Autovacuum's ANALYZE, done by the bench where autovacuum is off: before each measured
    workload (untimed), and after each bulk load. A background ANALYZE landed inside measured
    windows at random and took a core from the server under test; autovacuum, on a real
    server, would have caught up long before an IdP's next burst."""

    def __init__(self) -> None:
        self.runs, self.failures = 0, 0

    def catch_up(self) -> None:
        """The tables autovacuum would find due by now."""
        self._analyze(_DUE)

    def analyze(self) -> None:
        """After a bulk load: the tables that hold rows, as autovacuum's next round would find
        them due (its statistics of changes may lag behind by a second here)."""
        self._analyze(_WITH_ROWS)

    def _analyze(self, which: str) -> None:
        try:
            with psycopg.connect(PG_DSN.format(db=PG_DB), autocommit=True) as conn:
                for (table,) in conn.execute(which).fetchall():
                    conn.execute(f"ANALYZE {table}")
            self.runs += 1
        except psycopg.Error:
            self.failures += 1


def postgres_cpu(database: str = "tenure_bench") -> dict[int, float]:
    """CPU time of each PostgreSQL backend serving ``database`` (its process title names it)."""
    found: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if Path(f"/proc/{entry}/comm").read_text().strip() != "postgres":
                continue
            title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f" {database} " in title:
            found[int(entry)] = cpu_seconds(int(entry))
    return found


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots by the processes alive at the second one."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


def round_trips(samples: int = 200, idle_s: float = 0.002) -> tuple[list[float], list[float]]:
    """Seconds PostgreSQL takes to answer ``SELECT 1`` over its own connection, sorted: sent
    back to back, and each after ``idle_s`` of quiet. A one-member change is five round trips
    with the server's own work between them, so on a machine whose idle cores wake slowly its
    p50 follows the second figure more than the first (docs/performance.md)."""
    with psycopg.connect(PG_DSN.format(db=PG_DB), autocommit=True) as conn:
        for _ in range(20):  # the session's first statements are slower
            conn.execute("SELECT 1")
        busy, idle = [], []
        for _ in range(samples):
            t0 = time.perf_counter()
            conn.execute("SELECT 1")
            busy.append(time.perf_counter() - t0)
        for _ in range(samples):
            time.sleep(idle_s)
            t0 = time.perf_counter()
            conn.execute("SELECT 1")
            idle.append(time.perf_counter() - t0)
    return sorted(busy), sorted(idle)
