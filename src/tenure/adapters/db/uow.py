"""Units of work over SQLAlchemy: one transaction, rolled back unless committed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Generic, TypeVar, overload

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet

from tenure.adapters.db.held import HeldWrites
from tenure.adapters.db.kept import KeptConnections, kept_for
from tenure.adapters.db.prebuilt import open_mode
from tenure.adapters.db.repositories.audit import AuditRepository
from tenure.adapters.db.repositories.drift import DriftRepository
from tenure.adapters.db.repositories.groups import GroupRepository
from tenure.adapters.db.repositories.history import HistoryRepository
from tenure.adapters.db.repositories.memberships import MembershipRepository
from tenure.adapters.db.repositories.platform import PlatformRepository
from tenure.adapters.db.repositories.restores import RestoreRepository
from tenure.adapters.db.repositories.rooms import RoomRepository
from tenure.adapters.db.repositories.users import UserRepository
from tenure.domain.audit import Actor
from tenure.domain.errors import Conflict, Unavailable
from tenure.domain.organisation import Organisation

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger("tenure.db")

# Constraint names whose violation means "another request got there first": retry, then the
# second attempt sees the winner's row and decides again.
_RACE_MARKERS = (
    "uq_memberships_active",
    "pk_group_members",
    "group_members.group_id",
    "deadlock detected",
    "could not serialize",
    "database is locked",
)


def _connect(engine: Engine, write: bool, kept: KeptConnections | None) -> Connection:
    """A connection for one unit of work: from the engine's kept connections when it keeps
    them (``kept.kept_for``), else from its pool.

    Reads on PostgreSQL run in autocommit: no BEGIN/ROLLBACK round trips for a look-up whose
    answer comes from one statement. Writes always get a real transaction.
    """
    conn = kept.take() if kept is not None else engine.connect()
    if engine.dialect.name == "postgresql":
        # Every unit of work comes through here, so none inherits the mode of the one before.
        try:
            open_mode(conn, write)
        except BaseException:
            conn.invalidate()  # in no state to serve: the pool replaces it
            _release(conn, kept)
            raise
        return conn
    return conn.execution_options(write=write)


def _release(conn: Connection, kept: KeptConnections | None) -> None:
    if kept is not None:
        kept.give(conn)
    else:
        conn.close()


class _Transaction:
    """A connection and its transaction, rolled back on exit unless committed."""

    conn: Connection
    _tx: RootTransaction | None

    def __init__(self, engine: Engine, *, write: bool) -> None:
        self.engine = engine
        self.write = write
        self._kept = kept_for(engine)

    def _open(self) -> None:
        try:
            self.conn = _connect(self.engine, self.write, self._kept)
        except OperationalError as error:  # refused, too many clients, authentication…
            log.warning("the database cannot be reached: %s", error.orig or error)
            raise Unavailable("the database cannot be reached; retry later") from error
        # A read on PostgreSQL runs in autocommit: SQLAlchemy's transaction would only cost a
        # call to the driver to end it. One that runs a statement through SQLAlchemy begins
        # it there, and closing the connection ends it.
        autocommit = not self.write and self.engine.dialect.name == "postgresql"
        self._tx = None if autocommit else self.conn.begin()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        finally:
            _release(self.conn, self._kept)

    def commit(self) -> None:
        tx = self._tx if self._tx is not None else self.conn.get_transaction()
        if tx is not None:
            with _saving():
                tx.commit()


@contextmanager
def _saving() -> Iterator[None]:
    """Around a COMMIT, or a statement that commits by itself. Unlike a connection lost before
    it, one lost here may have committed: the client must look before it tries again, so it is
    not retried."""
    try:
        yield
    except DBAPIError as error:
        if error.connection_invalidated:
            raise Unavailable(
                "the connection to the database was lost while saving; the change may or "
                "may not have been saved: read it back before retrying"
            ) from error
        raise


class _Repository(Generic[R]):
    """A repository of a unit of work, made on its first use there (a look-up uses one of
    nine) and kept in the instance for the rest of it."""

    def __init__(self, make: Callable[[Connection, str, HeldWrites | None], R]) -> None:
        self.make = make

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, uow: None, owner: type) -> _Repository[R]: ...
    @overload
    def __get__(self, uow: SqlUnitOfWork, owner: type) -> R: ...
    def __get__(self, uow: SqlUnitOfWork | None, owner: type) -> R | _Repository[R]:
        if uow is None:
            return self
        repository = uow.__dict__[self.name] = self.make(*uow._bound)
        return repository


class SqlUnitOfWork(_Transaction):
    """One transaction for one organisation; its repositories are bound to it on entry."""

    users = _Repository(UserRepository)
    groups = _Repository(GroupRepository)
    rooms = _Repository(RoomRepository)
    memberships = _Repository(MembershipRepository)
    history = _Repository(HistoryRepository)
    restores = _Repository(RestoreRepository)
    audit = _Repository(AuditRepository)
    drift = _Repository(DriftRepository)
    # Organisations and credentials: never held.
    platform = _Repository(lambda conn, _org, _held: PlatformRepository(conn))
    _held: HeldWrites
    _bound: tuple[Connection, str, HeldWrites | None]

    def __init__(
        self,
        engine: Engine,
        org_id: str,
        actor: Actor,
        request_id: str | None = None,
        *,
        write: bool = True,
    ) -> None:
        super().__init__(engine, write=write)
        self.org_id = org_id
        self.actor = actor
        self.request_id = request_id
        self._org: Organisation | None = None

    def __enter__(self) -> SqlUnitOfWork:
        self._open()
        self._held = HeldWrites(self.conn)
        self._bind(self.conn, self._held)
        return self

    def _bind(self, conn: Connection, held: HeldWrites | None) -> None:
        self._bound = (conn, self.org_id, held)
        for name in _REPOSITORIES:  # made again, on this connection, when first used
            self.__dict__.pop(name, None)

    def commit(self) -> None:
        """Send the held writes (audit entries last), then COMMIT. When they are all the
        transaction does, they go as one statement that commits by itself."""
        self.audit.flush()
        if self._held.alone():
            with _saving():
                self._held.send(autocommit=True)
        else:
            self._held.send()
        super().commit()

    def remember_organisation(self, org: Organisation) -> None:
        """Keep an organisation read along with something else (saves its own query)."""
        if org.id == self.org_id:
            self._org = org

    def organisation(self) -> Organisation | None:
        """The organisation this unit of work serves, read once."""
        if self._org is None:
            self._org = self.platform.org(self.org_id)
        return self._org


_REPOSITORIES = tuple(n for n, v in vars(SqlUnitOfWork).items() if isinstance(v, _Repository))


class PlatformUnitOfWork(_Transaction):
    """A transaction over tenants and credentials (the command line and authentication)."""

    platform: PlatformRepository

    def __init__(self, engine: Engine, *, write: bool = True) -> None:
        super().__init__(engine, write=write)

    def __enter__(self) -> PlatformUnitOfWork:
        self._open()
        self.platform = PlatformRepository(self.conn)
        return self

    def tenant(self, org_id: str, actor: Actor, request_id: str | None = None) -> TenantView:
        """Tenant repositories on this same transaction (for platform-level use cases)."""
        return TenantView(self.conn, org_id, actor, request_id)


class TenantView(SqlUnitOfWork):
    """Tenant repositories sharing an open connection; committing is left to the owner, so
    audit entries are written at once rather than buffered."""

    def __init__(self, conn: Connection, org_id: str, actor: Actor, request_id: str | None) -> None:
        super().__init__(conn.engine, org_id, actor, request_id)
        self.conn = conn
        self._bind(conn, None)


def is_race(error: DBAPIError) -> bool:
    text = str(error.orig).lower() if error.orig is not None else str(error).lower()
    return any(marker in text for marker in _RACE_MARKERS)


def retry_races(fn: Callable[[], T], attempts: int = 6) -> T:
    """Run a whole use case again when a concurrent request won a race on a constraint, or
    when its connection turned out to be lost before it committed.

    Each attempt is a fresh transaction, so the retry sees the winner's rows and applies
    the same rules to them: the end state equals a serial one. A lost connection (PostgreSQL
    restarted, a connection cut) rolled its transaction back; the pool has dropped it and its
    older siblings, so the next attempt runs on a new one, at once.
    """
    for attempt in range(attempts):
        try:
            return fn()
        except DBAPIError as error:
            last = attempt == attempts - 1
            if error.connection_invalidated:
                if last:
                    raise Unavailable("the database cannot be reached; retry later") from error
                continue
            if not isinstance(error, IntegrityError | OperationalError) or not is_race(error):
                raise
            if last:
                raise Conflict(
                    "a concurrent change to the same records won; retry the request"
                ) from error
            _pause(0.005 * (2**attempt))
    raise AssertionError("unreachable")


def _pause(seconds: float) -> None:
    """Wait before a retry; on the event loop (a SCIM use case in a greenlet, see
    ``Runtime.run_scim``) without holding up other requests."""
    if in_greenlet():
        await_(asyncio.sleep(seconds))
    else:
        time.sleep(seconds)
