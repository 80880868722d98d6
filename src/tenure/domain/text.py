"""Text Tenure takes in: what both of its databases can store and compare.

PostgreSQL holds no NUL character (U+0000) in text, and neither database holds half of a
surrogate pair, which is not Unicode at all (a JSON ``\\ud800`` escape makes one). No IdP sends
either, so they are refused alike on both backends, wherever text comes in: bodies, paths,
query parameters, the strings of filters and PATCH paths, console forms.
"""

from __future__ import annotations

from typing import Any

NUL_DETAIL = "strings must not contain the NUL character (U+0000)"
SURROGATE_DETAIL = "strings must not contain half of a surrogate pair (U+D800 to U+DFFF)"


def why_unstorable(value: str) -> str | None:
    """Why ``value`` cannot be stored, or None."""
    if "\x00" in value:
        return NUL_DETAIL
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_DETAIL
    return None


def first_unstorable(value: Any) -> str | None:
    """Why some string in ``value`` (a decoded JSON document: keys included) cannot be
    stored, or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            why = why_unstorable(item)
            if why is not None:
                return why
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None
