"""SCIM filters (RFC 7644 §3.4.2.2) translated to SQL, so the database does the filtering.

The grammar is scim2-models'; this module walks its syntax tree and emits SQLAlchemy
expressions for the attributes ``scim/filterable.py`` lists. A clause is never dropped and a
result never widened: an attribute that cannot be filtered, or an operator its type does not
support, is a 400 ``invalidFilter``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from scim2_models import ScimFilter
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from sqlalchemy import String, and_, bindparam, func, not_, or_, select

from tenure.adapters.db.repositories.base import Bound
from tenure.adapters.db.tables import user_emails, users
from tenure.domain.clock import as_utc
from tenure.domain.errors import InvalidFilter
from tenure.scim import shapes
from tenure.scim.filterable import Catalogue, Cond, ElementCond, Expr, Multi


def parse(text: str) -> FilterNode:
    """Parse filter text; any syntax error is ``invalidFilter``."""
    if len(text) > 4096:
        raise InvalidFilter("the filter is longer than 4096 characters")
    simple = shapes.comparison(text)
    if simple is not None:
        return simple
    try:
        node = ScimFilter(text).ast
    except Exception as error:  # scim2-models raises its own exception types
        raise InvalidFilter(f"the filter could not be parsed: {_reason(error)}") from None
    unstorable = shapes.unstorable(text, node)
    if unstorable is not None:
        raise InvalidFilter(unstorable)
    return node


def _reason(error: Exception) -> str:
    detail = getattr(error, "detail", None) or str(error)
    return str(detail).splitlines()[0][:200]


# -- translation ---------------------------------------------------------------------------


def compile_filter(text: str, catalogue: Catalogue, dialect: str) -> Cond:
    """The SQL condition for a SCIM filter over ``catalogue``'s resource."""
    return _Compiler(catalogue, dialect).node(parse(text))


def compile_bound(text: str, catalogue: Catalogue, dialect: str) -> Cond | Bound:
    """Like :func:`compile_filter`, but the IdP's look-up shape, ``attr eq "string"`` on a
    string attribute, comes back as a :class:`Bound`: SQL built once per attribute, the
    value bound. The rules are :func:`_compare`'s (:func:`_fold`, :func:`_present`)."""
    simple = shapes.comparison(text) if len(text) <= 4096 else None
    if simple is None or simple.op is not CompareOperator.eq or not isinstance(simple.value, str):
        return compile_filter(text, catalogue, dialect)
    key = _key(simple.attr_path, catalogue)
    scalar = catalogue.scalars.get(key)
    if scalar is None or scalar.type != "string":
        return compile_filter(text, catalogue, dialect)
    shape = (catalogue.core, key, "eq", dialect)
    where = _BOUND.get(shape)
    if where is None:
        expr, _ = _fold(scalar.expr(dialect), "", scalar.case_exact, scalar.lowered)
        value_param = bindparam("filter_value", type_=String)
        where = _BOUND[shape] = _present(expr, expr == value_param, scalar.nullable)
    value = simple.value if scalar.case_exact else simple.value.lower()
    return Bound(where, {"filter_value": value}, shape)


_BOUND: dict[tuple[str, str, str, str], Cond] = {}  # bounded by the catalogues' attributes


def ordering(
    sort_by: str | None, descending: bool, catalogue: Catalogue, dialect: str
) -> list[Any]:
    """ORDER BY for a list: the requested attribute, then creation order, so pages are stable."""
    order: list[Any] = []
    if sort_by:
        expr = sort_expression(sort_by, catalogue, dialect)
        order.append(expr.desc().nulls_last() if descending else expr.asc().nulls_last())
    order.extend(catalogue.default_order)
    return order


def sort_expression(attribute: str, catalogue: Catalogue, dialect: str) -> Expr:
    """The SQL expression to sort by for ``sortBy`` (RFC 7644 §3.4.2.3)."""
    key = _key(_split(attribute), catalogue)
    scalar = catalogue.scalars.get(key)
    if scalar is None:
        multi = catalogue.multis.get(key.split(".")[0])
        if multi is not None and key.split(".")[0] == "emails":
            return (
                select(func.min(user_emails.c.value_ci))
                .where(user_emails.c.user_id == users.c.id)
                .correlate(users)
                .scalar_subquery()
            )
        raise InvalidFilter(f"cannot sort by {attribute!r}", scim_type="invalidValue")
    expr = scalar.expr(dialect)
    if scalar.case_exact or scalar.lowered or scalar.type != "string":
        return expr
    return func.lower(expr)


def _split(attribute: str) -> AttrPath:
    try:
        node = ScimFilter(f"{attribute} pr").ast
    except Exception:
        node = None
    if not isinstance(node, Present):  # a path with a filter, or a filter of its own
        raise InvalidFilter(f"{attribute!r} is not an attribute path", scim_type="invalidValue")
    return node.attr_path


def _key(path: AttrPath, catalogue: Catalogue) -> str:
    name = path.attr.lower() + (f".{path.sub_attr.lower()}" if path.sub_attr else "")
    if path.uri:
        uri = path.uri.lower()
        if uri == catalogue.core.lower():
            return name
        if uri in (e.lower() for e in catalogue.extensions):
            return f"{uri}:{name}"
        raise InvalidFilter(f"unknown schema {path.uri!r} in filter")
    return name


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return as_utc(moment).astimezone(UTC)
    raise InvalidFilter(f"{value!r} is not a dateTime")


def _compare(
    expr: Expr,
    op: CompareOperator,
    value: Any,
    type_: str,
    case_exact: bool,
    nullable: bool,
    name: str,
    lowered: bool = False,
) -> Cond:
    """One comparison, never NULL: an absent value compares false, so ``not`` stays exact."""
    if value is None:
        if op is CompareOperator.eq:
            return expr.is_(None)
        if op is CompareOperator.ne:
            return expr.is_not(None)
        raise InvalidFilter(f"null can only be compared with eq or ne ({name})")
    if type_ == "boolean":
        if not isinstance(value, bool) or op not in (CompareOperator.eq, CompareOperator.ne):
            raise InvalidFilter(f"{name} is boolean: compare it with eq or ne and true or false")
        cond = expr == value if op is CompareOperator.eq else expr != value
        return _present(expr, cond, nullable)
    if type_ == "dateTime":
        if op in (CompareOperator.co, CompareOperator.sw, CompareOperator.ew):
            raise InvalidFilter(f"{name} is a dateTime: co, sw and ew do not apply")
        value = _to_datetime(value)
    elif isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidFilter(f"{name} is a string: compare it with a string")
    else:
        expr, value = _fold(expr, str(value), case_exact, lowered)
    if op is CompareOperator.co:
        cond = expr.like(f"%{_escape_like(value)}%", escape="\\")
    elif op is CompareOperator.sw:
        cond = expr.like(f"{_escape_like(value)}%", escape="\\")
    elif op is CompareOperator.ew:
        cond = expr.like(f"%{_escape_like(value)}", escape="\\")
    elif op is CompareOperator.ne:
        cond = expr != value
        return or_(expr.is_(None), cond) if nullable else cond
    else:
        cond = {
            CompareOperator.eq: expr.__eq__,
            CompareOperator.gt: expr.__gt__,
            CompareOperator.ge: expr.__ge__,
            CompareOperator.lt: expr.__lt__,
            CompareOperator.le: expr.__le__,
        }[op](value)
    return _present(expr, cond, nullable)


def _fold(expr: Expr, value: str, case_exact: bool, lowered: bool) -> tuple[Expr, str]:
    """Strings compare case-insensitively unless the attribute is caseExact (RFC 7643 §2.1);
    a ``lowered`` column already holds the lowercased value (and its index)."""
    if case_exact:
        return expr, value
    return (expr if lowered else func.lower(expr)), value.lower()


def _present(expr: Expr, cond: Cond, nullable: bool) -> Cond:
    """An absent value compares false, never NULL, so ``not`` stays exact."""
    return and_(expr.is_not(None), cond) if nullable else cond


class _Compiler:
    def __init__(self, catalogue: Catalogue, dialect: str) -> None:
        self.catalogue = catalogue
        self.dialect = dialect

    def node(self, node: FilterNode) -> Cond:
        if isinstance(node, LogicalExpr):
            parts = [self.node(t) for t in node.terms]
            return and_(*parts) if node.op is LogicalOperator.and_ else or_(*parts)
        if isinstance(node, Not):
            return not_(self.node(node.expr))
        if isinstance(node, Comparison | Present):
            return self.attribute(node)
        if isinstance(node, ValuePath):
            return self.value_path(node)
        raise InvalidFilter("unsupported filter expression")

    def attribute(self, node: Comparison | Present) -> Cond:
        key = _key(node.attr_path, self.catalogue)
        scalar = self.catalogue.scalars.get(key)
        if scalar is not None:
            expr = scalar.expr(self.dialect)
            if isinstance(node, Present):
                if scalar.type == "string" and scalar.nullable:
                    return and_(expr.is_not(None), expr != "")
                return expr.is_not(None)
            return _compare(
                expr,
                node.op,
                node.value,
                scalar.type,
                scalar.case_exact,
                scalar.nullable,
                str(node.attr_path),
                scalar.lowered,
            )
        head, _, sub = key.partition(".")
        multi = self.catalogue.multis.get(head)
        if multi is None:
            raise InvalidFilter(f"{node.attr_path} cannot be used in a filter")
        sub = sub or multi.default_sub
        return multi.exists(self.dialect, self._element(multi, sub, node, str(node.attr_path)))

    def value_path(self, node: ValuePath) -> Cond:
        key = _key(node.attr_path, self.catalogue)
        multi = self.catalogue.multis.get(key)
        if multi is None:
            raise InvalidFilter(f"{node.attr_path} is not a multi-valued attribute")
        inner = node.val_filter

        def element_cond(field: Callable[[str], Expr]) -> Cond:
            return self._inner(inner, multi, field, str(node.attr_path))

        return multi.exists(self.dialect, element_cond)

    def _element(
        self, multi: Multi, sub: str, node: Comparison | Present, name: str
    ) -> ElementCond:
        if sub not in multi.subs:
            raise InvalidFilter(f"{name} cannot be used in a filter")
        type_, case_exact = multi.subs[sub]

        def element_cond(field: Callable[[str], Expr]) -> Cond:
            expr = field(_canonical_sub(sub))
            if isinstance(node, Present):
                return expr.is_not(None)
            return _compare(
                expr,
                node.op,
                node.value,
                type_,
                case_exact,
                True,
                name,
                lowered=sub in multi.lowered,
            )

        return element_cond

    def _inner(
        self, node: FilterNode, multi: Multi, field: Callable[[str], Expr], parent: str
    ) -> Cond:
        if isinstance(node, LogicalExpr):
            parts = [self._inner(t, multi, field, parent) for t in node.terms]
            return and_(*parts) if node.op is LogicalOperator.and_ else or_(*parts)
        if isinstance(node, Not):
            return not_(self._inner(node.expr, multi, field, parent))
        if isinstance(node, Comparison | Present):
            sub = node.attr_path.attr.lower()
            if node.attr_path.sub_attr or node.attr_path.uri:
                raise InvalidFilter(f"{node.attr_path} is not a sub-attribute of {parent}")
            return self._element(multi, sub, node, f"{parent}.{node.attr_path.attr}")(field)
        raise InvalidFilter("value filters cannot nest")


def _canonical_sub(sub: str) -> str:
    return {"streetaddress": "streetAddress", "postalcode": "postalCode"}.get(sub, sub)
