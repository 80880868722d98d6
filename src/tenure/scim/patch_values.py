"""Values and writers of the SCIM PATCH engine (``tenure.scim.patch``).

* Coercion of request values to the attribute's data type (RFC 7643 §2.3), including the
  string booleans ``"True"``/``"False"`` that Entra ID sends for ``active`` and ``primary``.
* Evaluation of the value filter of a ``valuePath`` (RFC 7644 §3.5.2, filter operators of
  §3.4.2.2) on the entries of a multi-valued attribute. These lists are a user's few e-mails
  or phone numbers, so they are evaluated here in Python rather than in SQL.
* The "Entra create rule": a filter made only of ``eq`` comparisons says what entry to create
  when nothing matches it.
* The single-``primary`` rule of RFC 7643 §2.4.

The writers that apply these to a resource are in ``tenure.scim.patch_writers``.

Dictionary look-ups go through :func:`get_ci` and friends because attribute names are
case-insensitive (RFC 7643 §2.1); writes always use the canonical spelling.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from scim2_models.path import (
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
)

from tenure.domain.errors import InvalidInput, InvalidPath
from tenure.scim.schema import Attribute

_BOOLEANS = {"true": True, "false": False}
# A value filter nests at most this deep; deeper is refused rather than risking recursion.
MAX_FILTER_DEPTH = 16


def short(value: Any, limit: int = 60) -> str:
    """``repr`` of a client value, cut short so that a huge string never fills an error."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(value: Any) -> str:
    """The JSON type of a value, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --- case-insensitive dictionary access (RFC 7643 §2.1) ----------------------------------------


def get_ci(obj: dict[str, Any], name: str) -> Any:
    """The value under ``name`` compared case-insensitively, or None."""
    if name in obj:
        return obj[name]
    lowered = name.lower()
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def pop_ci(obj: dict[str, Any], name: str) -> None:
    """Remove every spelling of ``name``."""
    lowered = name.lower()
    for key in [k for k in obj if isinstance(k, str) and k.lower() == lowered]:
        del obj[key]


def set_ci(obj: dict[str, Any], name: str, value: Any) -> None:
    """Store ``value`` under the canonical ``name``, dropping other spellings of it."""
    lowered = name.lower()
    for key in [k for k in obj if isinstance(k, str) and k.lower() == lowered and k != name]:
        del obj[key]
    obj[name] = value


# --- coercion to the schema's types (RFC 7643 §2.3) ---------------------------------------------


def coerce_simple(attr: Attribute, value: Any, where: str) -> Any:
    """Check a non-null singular value against ``attr.type``; raises InvalidInput.

    Booleans also come as strings: Entra ID sends ``"True"``/``"False"`` for ``active`` and
    ``emails[...].primary``, so those two strings (any case) are turned into bools.
    """
    expected = "a string"
    if attr.type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
            return _BOOLEANS[value.strip().lower()]
        expected = 'a boolean (or "true"/"false")'
    elif attr.type == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        expected = "an integer"
    elif attr.type == "decimal":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        expected = "a number"
    elif attr.type == "complex":
        return coerce_complex(attr, value, where)
    elif isinstance(value, str):
        return value
    raise InvalidInput(f"{where} must be {expected}, not {describe(value)}.")


def coerce_complex(attr: Attribute, value: Any, where: str) -> dict[str, Any]:
    """Check a complex value; keys become canonical, explicit nulls are kept as None.

    The None markers let a merge (RFC 7644 §3.5.2.1/§3.5.2.3) delete those sub-attributes.
    Read-only sub-attributes (``manager.displayName``) are computed by the server, so a
    value carrying one is accepted and the sub-attribute dropped.
    """
    if not isinstance(value, dict):
        raise InvalidInput(f"{where} must be an object, not {describe(value)}.")
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = attr.child(key) if isinstance(key, str) else None
        if sub is None:
            raise InvalidPath(f"{where} has no sub-attribute {short(key)}.")
        if sub.mutability == "readOnly":
            continue
        out[sub.name] = None if item is None else coerce_simple(sub, item, f"{where}.{sub.name}")
    return out


def fingerprint(value: Any) -> Hashable:
    """A hashable stand-in for a JSON value, telling ``True`` from ``1``."""
    if isinstance(value, dict):
        return ("{}", tuple(sorted((str(k), fingerprint(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("[]", tuple(fingerprint(v) for v in value))
    return (type(value).__name__, value)


def coerce_entries(attr: Attribute, value: Any, where: str) -> list[Any]:
    """The entries of a multi-valued value, checked, without nulls, empties and duplicates.

    A single object where a list is expected is taken as a one-entry list (lenient: some
    clients send one e-mail as an object).
    """
    items = value if isinstance(value, list) else [value]
    out: list[Any] = []
    seen: set[Hashable] = set()
    for index, item in enumerate(items):
        if item is None:
            continue
        entry = coerce_simple(attr, item, f"{where}[{index}]")
        if isinstance(entry, dict):
            entry = {k: v for k, v in entry.items() if v is not None}
            if not entry:
                continue
        key = fingerprint(entry)
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


# --- value filters (RFC 7644 §3.4.2.2, used by valuePath in §3.5.2) ------------------------------


def check_filter(node: FilterNode, attr: Attribute, where: str, depth: int = 0) -> None:
    """Refuse a filter naming anything but plain sub-attributes of ``attr``."""
    if depth > MAX_FILTER_DEPTH:
        raise InvalidPath(f"{where}: the value filter nests too deeply.")
    if isinstance(node, Comparison | Present):
        path = node.attr_path
        if path.uri is not None or path.sub_attr is not None or attr.child(path.attr) is None:
            raise InvalidPath(
                f"{where}: the filter names {short(str(path))}, "
                f"which is not a sub-attribute of {attr.name!r}."
            )
    elif isinstance(node, LogicalExpr):
        for term in node.terms:
            check_filter(term, attr, where, depth + 1)
    elif isinstance(node, Not):
        check_filter(node.expr, attr, where, depth + 1)
    else:
        raise InvalidPath(f"{where}: nested value filters are not supported.")


def _normal(attr: Attribute, value: Any) -> Any:
    """A value as compared: booleans from strings, strings folded unless caseExact."""
    if attr.type == "boolean" and isinstance(value, str) and value.lower() in _BOOLEANS:
        return _BOOLEANS[value.lower()]
    if isinstance(value, str) and not attr.case_exact:
        return value.casefold()
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) != isinstance(right, bool):
        return False  # True == 1 in Python, never in SCIM
    return bool(left == right)


def compare(attr: Attribute, op: CompareOperator, actual: Any, expected: Any) -> bool:
    """One comparison of RFC 7644 §3.4.2.2 between an entry's value and the filter's."""
    left, right = _normal(attr, actual), _normal(attr, expected)
    if op == CompareOperator.eq:
        return _same(left, right)
    if op == CompareOperator.ne:
        return not _same(left, right)
    if isinstance(left, str) and isinstance(right, str):
        if op == CompareOperator.co:
            return right in left
        if op == CompareOperator.sw:
            return left.startswith(right)
        if op == CompareOperator.ew:
            return left.endswith(right)
    elif not (_is_number(left) and _is_number(right)):
        return False
    if op == CompareOperator.gt:
        return bool(left > right)
    if op == CompareOperator.ge:
        return bool(left >= right)
    if op == CompareOperator.lt:
        return bool(left < right)
    if op == CompareOperator.le:
        return bool(left <= right)
    return False


def matches(node: FilterNode, entry: Any, attr: Attribute) -> bool:
    """Whether one entry of the multi-valued ``attr`` satisfies a (checked) value filter."""
    if not isinstance(entry, dict):
        return False
    if isinstance(node, Comparison | Present):
        sub = attr.child(node.attr_path.attr)
        if sub is None:
            return False
        actual = get_ci(entry, sub.name)
        if isinstance(node, Present):
            return actual is not None and actual != "" and actual != [] and actual != {}
        return compare(sub, node.op, actual, node.value)
    if isinstance(node, LogicalExpr):
        if node.op == LogicalOperator.and_:
            return all(matches(term, entry, attr) for term in node.terms)
        return any(matches(term, entry, attr) for term in node.terms)
    if isinstance(node, Not):
        return not matches(node.expr, entry, attr)
    return False


def covers(attr: Attribute, given: Any, entry: Any) -> bool:
    """Whether ``entry`` has every sub-attribute value of ``given`` (remove-by-value)."""
    if not isinstance(given, dict):
        return _same(_normal(attr, given), _normal(attr, entry))
    if not isinstance(entry, dict):
        return False
    for key, value in given.items():
        sub = attr.child(key)
        if sub is None or not compare(sub, CompareOperator.eq, get_ci(entry, key), value):
            return False
    return True


def creatable_defaults(node: FilterNode, attr: Attribute, where: str) -> dict[str, Any] | None:
    """What a filter says about the entry to create when it matches nothing, or None.

    Entra ID patches ``emails[type eq "work"].value`` even when the user has no work e-mail
    yet, expecting the entry ``{"type": "work", "value": ...}`` to be created. That is only
    unambiguous for a single ``eq`` comparison or an ``and`` of them.
    """
    terms = node.terms if isinstance(node, LogicalExpr) else (node,)
    if isinstance(node, LogicalExpr) and node.op != LogicalOperator.and_:
        return None
    out: dict[str, Any] = {}
    for term in terms:
        if not isinstance(term, Comparison) or term.op != CompareOperator.eq:
            return None
        sub = attr.child(term.attr_path.attr)
        if sub is None or sub.mutability == "readOnly" or term.value is None:
            return None
        try:
            value = coerce_simple(sub, term.value, where)
        except InvalidInput:
            return None
        if sub.name in out and fingerprint(out[sub.name]) != fingerprint(value):
            return None
        out[sub.name] = value
    return out


def settle_primary(attr: Attribute, entries: list[Any], written: list[Any]) -> None:
    """Keep at most one ``primary: true`` (RFC 7643 §2.4): the last one written wins."""
    primary = attr.child("primary")
    if primary is None:
        return
    winners = [e for e in written if isinstance(e, dict) and e.get(primary.name) is True]
    if not winners:
        return
    for entry in entries:
        others = entry is not winners[-1] and isinstance(entry, dict)
        if others and get_ci(entry, primary.name) is True:
            set_ci(entry, primary.name, False)
