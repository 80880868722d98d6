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
from functools import lru_cache

from scim2_models.path import AttrPath, CompareOperator, Comparison, ValuePath

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
    escapes is its own value."""
    return json.loads(f'"{raw}"') if "\\" in raw else raw


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
