"""Prebuilt statements answer exactly as SQLAlchemy's own execution does, on both backends.

On PostgreSQL they run on psycopg's raw cursor (their own parameter binding, ``IN`` lists as
arrays, their own rows and error translation); on SQLite through SQLAlchemy. Each test runs
the same statement both ways and compares what a repository would read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.held import HeldWrites
from tenure.adapters.db.prebuilt import Prebuilt, execute, execute_many, execute_together

probe_meta = MetaData()
probe = Table(
    "prebuilt_probe",
    probe_meta,
    Column("id", String(20), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("n", Integer, nullable=False, server_default="0"),
    Column("data", JSON, nullable=True),
    Column("at", DateTime(timezone=True), nullable=True),
)
AT = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    """SQLite keeps no offset; the repositories read its moments as UTC (``rows.py``)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@pytest.fixture()
def conn(database_url: str) -> Iterator[Connection]:
    engine = make_engine(database_url, pooled=False)
    probe_meta.create_all(engine)
    try:
        with engine.connect() as connection, connection.begin() as tx:
            yield connection
            tx.rollback()
    finally:
        probe_meta.drop_all(engine)
        engine.dispose()


def _seed(conn: Connection) -> None:
    execute_many(
        conn,
        Prebuilt(insert(probe)),
        [
            {"id": "a", "kind": "active", "n": 1, "data": {"x": [1, 2]}, "at": AT},
            {"id": "b", "kind": "active", "n": 2, "data": None, "at": None},
            {"id": "c", "kind": "gone", "n": 3, "data": {"y": "50% off"}, "at": AT},
        ],
    )


def _both(conn: Connection, stmt: Any, params: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    lean = [tuple(r) for r in execute(conn, Prebuilt(stmt), params)]
    reference = [tuple(r) for r in conn.execute(stmt, params)]
    return lean, reference


def test_rows_read_as_sqlalchemy_rows_do(conn: Connection) -> None:
    _seed(conn)
    stmt = select(probe).where(probe.c.kind == "active").order_by(probe.c.id)
    lean, reference = _both(conn, stmt, {})
    assert lean == reference
    assert [r[0] for r in lean] == ["a", "b"]
    first = execute(conn, Prebuilt(stmt), {}).first()
    assert (first.id, first.n, first.data, _utc(first.at)) == ("a", 1, {"x": [1, 2]}, AT)
    assert first._mapping["kind"] == "active"


def test_in_lists_of_any_length_and_not_in(conn: Connection) -> None:
    _seed(conn)
    ids = bindparam("ids", expanding=True)
    within = select(probe.c.id).where(probe.c.id.in_(ids)).order_by(probe.c.id)
    outside = select(probe.c.id).where(probe.c.id.not_in(ids)).order_by(probe.c.id)
    for wanted in ([], ["a"], ["a", "c", "zz"]):
        assert _both(conn, within, {"ids": wanted})[0] == _both(conn, within, {"ids": wanted})[1]
        assert _both(conn, outside, {"ids": wanted})[0] == _both(conn, outside, {"ids": wanted})[1]
    assert list(execute(conn, Prebuilt(within), {"ids": ["c", "a"]}).scalars()) == ["a", "c"]
    assert list(execute(conn, Prebuilt(outside), {"ids": ["a"]}).scalars()) == ["b", "c"]


def test_writes_bind_json_dates_and_server_defaults(conn: Connection) -> None:
    execute(conn, Prebuilt(insert(probe)), {"id": "d", "kind": "k", "data": {"q": "100%"}})
    row = conn.execute(select(probe).where(probe.c.id == "d")).one()
    assert (row.n, row.data, row.at) == (0, {"q": "100%"}, None)
    bump = Prebuilt(
        update(probe)
        .where(probe.c.id == bindparam("b_id"))
        .values(n=probe.c.n + bindparam("b_by"), at=bindparam("b_at"))
        .returning(probe.c.n)
    )
    assert execute(conn, bump, {"b_id": "d", "b_by": 5, "b_at": AT}).scalar_one() == 5
    assert execute(conn, bump, {"b_id": "nobody", "b_by": 1, "b_at": AT}).scalar() is None
    assert _utc(conn.execute(select(probe.c.at).where(probe.c.id == "d")).scalar_one()) == AT


def test_many_rows_are_written_alike_in_batches(conn: Connection) -> None:
    rows = [
        {"id": f"r{i:03d}", "kind": "bulk", "n": i, "data": {"i": i}, "at": AT} for i in range(250)
    ]
    execute_many(conn, Prebuilt(insert(probe)), rows)
    stored = conn.execute(select(probe).where(probe.c.kind == "bulk").order_by(probe.c.id)).all()
    assert [(r.id, r.n, r.data, _utc(r.at)) for r in stored] == [
        (r["id"], r["n"], r["data"], AT) for r in rows
    ]


def test_a_constraint_violation_is_sqlalchemys_integrity_error(conn: Connection) -> None:
    _seed(conn)
    with pytest.raises(IntegrityError), conn.begin_nested():
        execute_many(
            conn, Prebuilt(insert(probe)), [{"id": "new", "kind": "k"}, {"id": "a", "kind": "k"}]
        )
    assert conn.execute(select(probe.c.id).where(probe.c.id == "new")).first() is None
    with pytest.raises(IntegrityError) as raised, conn.begin_nested():
        execute(conn, Prebuilt(insert(probe)), {"id": "a", "kind": "again"})
    assert raised.value.orig is not None
    assert (
        "prebuilt_probe" in str(raised.value.orig).lower()
        or "unique" in str(raised.value.orig).lower()
    )


def test_inserts_sent_together_all_land_or_none_does(conn: Connection) -> None:
    _seed(conn)
    rows = Prebuilt(insert(probe))
    execute_together(
        conn, [(rows, [{"id": "t1", "kind": "together"}]), (rows, [{"id": "t2", "kind": "x"}])]
    )
    kinds = select(probe.c.id, probe.c.kind).where(probe.c.id.in_(["t1", "t2", "t3"]))
    assert sorted(conn.execute(kinds).all()) == [("t1", "together"), ("t2", "x")]
    with pytest.raises(IntegrityError), conn.begin_nested():
        execute_together(
            conn, [(rows, [{"id": "t3", "kind": "k"}]), (rows, [{"id": "a", "kind": "taken"}])]
        )
    assert conn.execute(select(probe.c.id).where(probe.c.id == "t3")).first() is None


def test_held_writes_never_change_one_row_twice_in_one_statement(conn: Connection) -> None:
    """The parts of one statement all see the rows as they were before it: two increments of
    one row held together must still both count."""
    _seed(conn)
    bump = Prebuilt(
        update(probe).where(probe.c.id == bindparam("b_id")).values(n=probe.c.n + bindparam("b_by"))
    )
    held = HeldWrites(conn)
    held.add(bump, [{"b_id": "a", "b_by": 10}])
    held.add(Prebuilt(insert(probe)), [{"id": "h1", "kind": "held"}])
    held.add(bump, [{"b_id": "a", "b_by": 100}])
    held.add(Prebuilt(insert(probe)), [{"id": "h2", "kind": "held"}])
    held.send()
    assert conn.execute(select(probe.c.n).where(probe.c.id == "a")).scalar_one() == 111
    assert conn.execute(select(probe.c.id).where(probe.c.kind == "held")).scalars().all() == [
        "h1",
        "h2",
    ]


def test_statements_after_an_error_on_the_same_connection_read_their_own_rows(
    conn: Connection,
) -> None:
    """On PostgreSQL the connection runs every prebuilt statement on one kept cursor; an error
    (after which SQLAlchemy closes it) leaves nothing behind for the statements that follow."""
    _seed(conn)
    by_kind = Prebuilt(select(probe.c.id).where(probe.c.kind == bindparam("kind")))
    numbers = Prebuilt(select(probe.c.n).where(probe.c.id == bindparam("id")))
    assert list(execute(conn, by_kind, {"kind": "active"}).scalars()) == ["a", "b"]
    with pytest.raises(IntegrityError), conn.begin_nested():
        execute(conn, Prebuilt(insert(probe)), {"id": "a", "kind": "again"})
    assert list(execute(conn, by_kind, {"kind": "gone"}).scalars()) == ["c"]
    assert execute(conn, numbers, {"id": "b"}).scalar() == 2
    assert list(execute(conn, by_kind, {"kind": "active"}).scalars()) == ["a", "b"]
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        kept = driver.raw_cursor()  # type: ignore[union-attr]
        execute(conn, numbers, {"id": "c"})
        assert driver.raw_cursor() is kept  # type: ignore[union-attr]
