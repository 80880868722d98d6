"""A statement compiled once per set of parameter names into what psycopg's raw cursor runs.

A :class:`Plan` holds the SQL with numbered placeholders (``$1 … $n``, so psycopg sends it as
it is), the parameter behind each, the statement's own literal values, SQLAlchemy's bind
processors for its types, and the class of its rows. ``tenure.adapters.db.prebuilt`` makes
one per statement and set of parameter names, and runs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

# SQLAlchemy marks a parameter the caller must give with this symbol (``construct_params``).
_REQUIRED_NAME = "REQUIRED"
_EXPANDING = re.compile(r"(NOT )?IN \(__\[POSTCOMPILE_(\w+)\]\)")
_NAMED = re.compile(r"%\((\w+)\)s|%%")
# A plain one-row ``INSERT … VALUES (…)``: several rows can go as one statement.
ONE_ROW = re.compile(rb"^(INSERT INTO \S+ \([^)]*\) VALUES )(\([^()]*\))$")
PLACEHOLDER = re.compile(rb"\$(\d+)")  # a numbered placeholder, ``$n``


@dataclass(frozen=True, slots=True)
class Plan:
    """One statement as psycopg's raw cursor runs it, for one set of parameter names."""

    text: str  # the SQL as SQLAlchemy compiled it (for error messages)
    sql: bytes  # the same with numbered placeholders, for psycopg's raw cursor
    order: tuple[str, ...]  # the parameter behind each placeholder
    defaults: dict[str, Any]  # literal values the statement carries, and optional parameters
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]  # SQLAlchemy's bind processors
    row: type[tuple[Any, ...]] | None  # the row class, when the statement returns rows
    lists: tuple[str, ...]  # the parameters of ``IN`` lists
    single: frozenset[str]  # those of them sent as one value, not an array
    rows_at_once: bool  # a plain ``INSERT … VALUES (…)``: many rows go as one statement
    pick: Callable[[Mapping[str, Any]], Sequence[Any]]  # the values of ``order``, as a tuple

    @classmethod
    def compile(
        cls, stmt: Executable, conn: Connection, names: frozenset[str], single: frozenset[str]
    ) -> Plan | None:
        """Compile for these parameter names; the ``IN`` lists named in ``single`` hold one
        value, and compare as ``=`` (or ``<>``) to it.

        Why: PostgreSQL plans a prepared statement generically after five runs, unless the
        generic plan looks costlier than the custom ones. For ``= ANY($n)`` it cannot know the
        array's length and keeps planning every run (about a third of a statement's time in
        PostgreSQL, measured); a single value gets the generic plan, and one member added or
        removed is the change an IdP sends most.
        """
        compiled = cast(ClauseElement, stmt).compile(
            dialect=conn.dialect, column_keys=sorted(names)
        )
        assert isinstance(compiled, SQLCompiler)
        columns = compiled._result_columns
        if any(c[3]._cached_result_processor(conn.dialect, None) for c in columns):
            return None  # a type SQLAlchemy post-processes: leave it to SQLAlchemy
        lists = tuple(m.group(2) for m in _EXPANDING.finditer(compiled.string))
        sql = _EXPANDING.sub(lambda m: _as_array(m, single), compiled.string)
        if "__[POSTCOMPILE" in sql:
            return None
        defaults = {
            k: v
            for k, v in compiled.construct_params(_check=False).items()
            if getattr(v, "name", None) != _REQUIRED_NAME
        }
        processors: list[tuple[str, Callable[[Any], Any]]] = []
        for name, process in compiled._bind_processors.items():
            if not callable(process):
                return None  # a tuple type's processors: leave it to SQLAlchemy
            processors.append((name, process))
        row = _row_class([c[0] for c in columns]) if columns else None
        raw, order = _numbered(sql)
        rows_at_once = ONE_ROW.match(raw) is not None and len(PLACEHOLDER.findall(raw)) == len(
            order
        )
        return cls(
            sql,
            raw,
            order,
            defaults,
            tuple(processors),
            row,
            lists,
            single,
            rows_at_once,
            _picker(order),
        )

    def params(self, given: Mapping[str, Any]) -> Sequence[Any]:
        values = {**self.defaults, **given}
        for name in self.single:
            values[name] = values[name][0]
        for name, process in self.processors:
            if name in values:
                values[name] = process(values[name])
        return self.pick(values)


def _picker(order: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    """The values of ``order``'s parameters, in that order, as a tuple (one C call)."""
    if len(order) == 1:
        name = order[0]
        return lambda values: (values[name],)
    if not order:
        return lambda _values: ()
    return cast("Callable[[Mapping[str, Any]], Sequence[Any]]", itemgetter(*order))


def _numbered(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """``%(name)s`` placeholders as ``$1 … $n`` (a name used twice keeps its number): psycopg
    then sends the statement as it is, with no parsing per execution."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _NAMED.sub(number, sql).encode(), tuple(order)


def _as_array(match: re.Match[str], single: frozenset[str]) -> str:
    """``x IN (…)`` with a list of any length as one array parameter: one SQL text, preparable
    (or, for a list in ``single``, as its one value)."""
    negated, name = match.group(1), match.group(2)
    if name in single:
        return f"{'<>' if negated else '='} %({name})s"
    return f"{'<> ALL' if negated else '= ANY'}(%({name})s)"


def _row_class(names: Sequence[str]) -> type[tuple[Any, ...]]:
    """A tuple whose columns read as attributes, like SQLAlchemy's ``Row``."""
    ns: dict[str, Any] = {"__slots__": ()}
    for i, name in enumerate(names):
        ns[name] = property(itemgetter(i))
    keys = tuple(names)
    ns["_mapping"] = property(lambda row: dict(zip(keys, row, strict=True)))
    return type("Row", (tuple,), ns)
