"""psycopg connections that keep their prepared statements across a ROLLBACK, and one cursor;
SCIM's also plan the statements of their write transactions generically.

psycopg forgets every statement it has prepared when a transaction rolls back, and sends
``DEALLOCATE ALL``: a transaction that created a table and prepared a statement on it could
otherwise leave a statement behind that names a table which no longer exists. PostgreSQL itself
keeps prepared statements through a rollback (they belong to the session, not the transaction).

Tenure's units of work never change the schema (migrations run on connections of their own), and
they roll back often: every error a client sees (409, 404, 412, a bad PATCH) and every change
that turns out to change nothing. Each of those cost the connection all its prepared statements,
so the statements that followed were parsed and planned again (and planned for their values, not
generically, for their next five runs). These connections roll back and keep them.

Each also keeps the raw cursor that runs Tenure's prebuilt statements (``raw_cursor``). A cursor
made per statement started with no adapters: it copied the connection's map, and looked up the
dumpers of the parameters and the loaders of the columns again (about a tenth of a look-up's CPU
in the driver). The kept one keeps them while it runs the same statement again, and a unit of
work runs its statements one after another, so no two ever share it at once.

The connections that serve SCIM (``AsyncConnection``) begin a write transaction with ``BEGIN;
SET LOCAL plan_cache_mode = force_generic_plan``, in the one round trip psycopg's ``BEGIN``
takes. Most statements of those transactions are keyed by ids (a group locked, one member
added or removed with the memberships of the people, the held writes), and PostgreSQL's
default kept planning the member statements anew for their values at every run: about 0.4 ms
of a one-member change, for a plan that in a small room scanned the whole room where the
generic plan looks the person up (``docs/performance.md``). A statement whose best plan does
depend on its values (all the members of one group: from one to 20k rows) is sent with its
values written in, unprepared, so PostgreSQL plans it for them in any mode
(``prebuilt._once_for_values``). ``LOCAL`` ends with the transaction: reads, in autocommit,
keep PostgreSQL's default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import psycopg
from psycopg import errors, generators, pq
from psycopg.abc import PQGen

_Cursor = TypeVar("_Cursor", psycopg.RawCursor[Any], psycopg.AsyncRawCursor[Any])
_BEGIN_GENERIC = b"BEGIN; SET LOCAL plan_cache_mode = force_generic_plan"


class _KeepsPrepared(psycopg.BaseConnection[Any]):
    def _rollback_gen(self) -> PQGen[None]:
        # Transaction blocks, two-phase commits and pipelines keep psycopg's own handling.
        if self._num_transactions or self._tpc or self._pipeline:
            return (yield from super()._rollback_gen())
        if self.pgconn.transaction_status == pq.TransactionStatus.IDLE:
            return None
        yield from self._exec_command(b"ROLLBACK")
        return None


class _KeepsCursor(Generic[_Cursor]):
    """Keeps the raw cursor of a connection's prebuilt statements (see the module's text)."""

    _cursor_class: Callable[[Any], _Cursor]
    _raw: _Cursor | None = None

    def raw_cursor(self) -> _Cursor:
        """The cursor for prebuilt statements, made at first use (again after a close)."""
        if self._raw is None or self._raw.closed:
            self._raw = self._cursor_class(self)
        return self._raw


class Connection(_KeepsCursor[psycopg.RawCursor[Any]], _KeepsPrepared, psycopg.Connection[Any]):
    """A synchronous connection (the admin API, the console, the command line)."""

    _cursor_class = psycopg.RawCursor


class AsyncConnection(
    _KeepsCursor[psycopg.AsyncRawCursor[Any]], _KeepsPrepared, psycopg.AsyncConnection[Any]
):
    """A connection whose waits go through the event loop (SCIM)."""

    _cursor_class = psycopg.AsyncRawCursor

    def _start_query(self) -> PQGen[None]:
        if self._autocommit or self.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return (yield from super()._start_query())  # no transaction to begin
        # Only the plain BEGIN psycopg would send (no isolation level or access mode set, no
        # pipeline) becomes BEGIN with generic plans.
        if self._pipeline or self._get_tx_start_command() != b"BEGIN":
            return (yield from super()._start_query())
        self._check_connection_ok()
        self.pgconn.send_query(_BEGIN_GENERIC)
        for result in (yield from generators.execute(self.pgconn)):
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise errors.error_from_result(result, encoding=self.pgconn._encoding)
        return None

    def set_autocommit_idle(self, value: bool) -> bool:
        """Set autocommit at once, without psycopg's trip through the event loop, when the
        connection is idle (no transaction, no pipeline): then the change is only a flag, the
        check psycopg makes first has nothing to wait for, and the unit of work that owns the
        connection is its only user. False, and nothing set, otherwise."""
        if self._pipeline or self.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        self._autocommit = bool(value)
        return True
