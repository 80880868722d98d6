"""The shapes IdPs send on every sync, read without the general grammar.

scim2-models' grammar costs 0.3 to 0.5 ms per new string (measured: docs/performance.md), as
much as the rest of a look-up. Two shapes cover what IdPs send nearly always: the filter
``attr op "string"`` and the PATCH paths ``attr``, ``attr.sub`` and ``attr[sub op "string"]``
(Okta removes members by ``members[value eq "id"]``). Each function here yields the very node
the grammar would build, or ``None`` for anything else, which then goes through the grammar
(``tests/unit/test_shapes.py`` compares both).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from scim2_models.path import AttrPath, CompareOperator, Comparison, LogicalExpr, Not, ValuePath

from tenure.domain.text import why_unstorable

_NAME = r"[A-Za-z][A-Za-z0-9_-]*"
_OP = r"(eq|ne|co|sw|ew|gt|ge|lt|le)"
_STRING = r'"((?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9A-Fa-f]{4})*)"'

_COMPARISON = re.compile(rf"^\s*([A-Za-z][A-Za-z0-9$_.:-]*)\s+{_OP}\s+{_STRING}\s*$", re.IGNORECASE)
_PLAIN_PATH = re.compile(rf"^({_NAME})(?:\.({_NAME}))?$")
_VALUE_PATH = re.compile(
    rf"^({_NAME})\[({_NAME}) {_OP} {_STRING}\](?:\.({_NAME}))?$", re.IGNORECASE
)


def comparison(text: str) -> Comparison | None:
    """``attr op "string"``, the filter of every IdP look-up."""
    match = _COMPARISON.match(text)
    if match is None:
        return None
    path, op, raw = match.groups()
    uri, _, name = path.rpartition(":") if ":" in path else ("", "", path)
    attr, _, sub = name.partition(".")
    try:
        node = _attr_path(attr, sub or None, uri or None)
        return Comparison(node, CompareOperator(op.lower()), _unquoted(raw))
    except ValueError:
        return None  # let the grammar say what is wrong


def _unquoted(raw: str) -> str:
    """A string literal's value; the pattern admits no control character, so one without
    escapes is its own value. One whose escapes make a string that cannot be stored is left
    to the grammar (a ValueError), and :func:`unstorable` says why."""
    if "\\" not in raw:
        return raw
    value: str = json.loads(f'"{raw}"')
    if why_unstorable(value) is not None:
        raise ValueError(value)
    return value


@lru_cache(maxsize=512)
def _attr_path(attr: str, sub: str | None, uri: str | None = None) -> AttrPath:
    """The same few paths come on every request: each node is made once (nodes are frozen)."""
    return AttrPath(attr=attr, sub_attr=sub, uri=uri)


def patch_path(text: str) -> AttrPath | ValuePath | None:
    """``attr``, ``attr.sub`` or ``attr[sub op "string"]`` (optionally ``.sub`` after it)."""
    plain = _PLAIN_PATH.match(text)
    if plain is not None:
        return _attr_path(plain[1], plain[2])
    match = _VALUE_PATH.match(text)
    if match is None:
        return None
    attr, inner, op, raw, sub = match.groups()
    try:
        test = Comparison(_attr_path(inner, None), CompareOperator(op.lower()), _unquoted(raw))
        return ValuePath(_attr_path(attr, None), test, sub)
    except ValueError:
        return None


def unstorable(text: str, node: Any) -> str | None:
    """Why a string of the filter or path ``text`` (parsed as ``node``) cannot be stored or
    compared (``domain/text.py``), or None. Only a ``\\u`` escape makes such a string here
    (the request's own text has been checked), so text without a backslash is not walked."""
    if "\\" not in text:
        return None
    for value in _strings(node):
        why = why_unstorable(value)
        if why is not None:
            return why
    return None


def _strings(node: Any) -> Iterator[str]:
    """The string values a filter or path compares with."""
    if isinstance(node, Comparison):
        if isinstance(node.value, str):
            yield node.value
    elif isinstance(node, LogicalExpr):
        for term in node.terms:
            yield from _strings(term)
    elif isinstance(node, Not):
        yield from _strings(node.expr)
    elif isinstance(node, ValuePath):
        yield from _strings(node.val_filter)
