"""psycopg connections that keep their prepared statements across a ROLLBACK.

psycopg forgets every statement it has prepared when a transaction rolls back, and sends
``DEALLOCATE ALL``: a transaction that created a table and prepared a statement on it could
otherwise leave a statement behind that names a table which no longer exists. PostgreSQL itself
keeps prepared statements through a rollback (they belong to the session, not the transaction).

Tenure's units of work never change the schema (migrations run on connections of their own), and
they roll back often: every error a client sees (409, 404, 412, a bad PATCH) and every change
that turns out to change nothing. Each of those cost the connection all its prepared statements,
so the statements that followed were parsed and planned again (and planned for their values, not
generically, for their next five runs). These connections roll back and keep them.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import pq
from psycopg.abc import PQGen


class _KeepsPrepared(psycopg.BaseConnection[Any]):
    def _rollback_gen(self) -> PQGen[None]:
        # Transaction blocks, two-phase commits and pipelines keep psycopg's own handling.
        if self._num_transactions or self._tpc or self._pipeline:
            return (yield from super()._rollback_gen())
        if self.pgconn.transaction_status == pq.TransactionStatus.IDLE:
            return None
        yield from self._exec_command(b"ROLLBACK")
        return None


class Connection(_KeepsPrepared, psycopg.Connection[Any]):
    """A synchronous connection (the admin API, the console, the command line)."""


class AsyncConnection(_KeepsPrepared, psycopg.AsyncConnection[Any]):
    """A connection whose waits go through the event loop (SCIM)."""

    def set_autocommit_idle(self, value: bool) -> bool:
        """Set autocommit at once, without psycopg's trip through the event loop, when the
        connection is idle (no transaction, no pipeline): then the change is only a flag, the
        check psycopg makes first has nothing to wait for, and the unit of work that owns the
        connection is its only user. False, and nothing set, otherwise."""
        if self._pipeline or self.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        self._autocommit = bool(value)
        return True
