"""List and search parameters (RFC 7644 §3.4.2 and §3.4.3), from a query string or a body."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tenure.domain.errors import InvalidInput, InvalidSyntax
from tenure.scim.schema import SEARCH_REQUEST


@dataclass(frozen=True, slots=True)
class ListQuery:
    filter: str | None = None
    start_index: int = 1
    count: int | None = None
    sort_by: str | None = None
    descending: bool = False
    attributes: list[str] | None = None
    excluded: list[str] | None = None

    def page(self, default: int, maximum: int) -> tuple[int, int]:
        """(offset, limit): startIndex is 1-based, values below 1 read as 1 (§3.4.2.4)."""
        count = default if self.count is None else max(0, min(self.count, maximum))
        return self.start_index - 1, count

    def wants(self, attribute: str) -> bool:
        """Whether ``attribute`` is returned under attributes/excludedAttributes."""
        name = attribute.lower()
        if self.attributes:
            return any(a.lower().split(".")[0].rsplit(":", 1)[-1] == name for a in self.attributes)
        if self.excluded:
            return not any(a.lower().rsplit(":", 1)[-1] == name for a in self.excluded)
        return True


# startIndex is echoed in the ListResponse and both become SQL OFFSET/LIMIT: a value like
# 10**30 must neither overflow the JSON encoder (64-bit) nor the database, so integers are
# clamped to 32 bits. Nothing is lost: no page that far exists (§3.4.2.4 answers it empty).
_INT_MAX = 2**31 - 1


def _int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        raise InvalidInput(f"{name} must be an integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be an integer") from None
    return max(-_INT_MAX, min(number, _INT_MAX))


def _names(value: Any, name: str) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value]
    else:
        raise InvalidInput(f"{name} must be a comma-separated list of attribute names")
    return [v for v in items if v] or None


def _build(get: Mapping[str, Any]) -> ListQuery:
    start = _int(get.get("startindex"), "startIndex")
    order = get.get("sortorder")
    if order is not None and (
        not isinstance(order, str) or order.lower() not in ("ascending", "descending")
    ):
        raise InvalidInput("sortOrder must be 'ascending' or 'descending'")
    filt = get.get("filter")
    if filt is not None and not isinstance(filt, str):
        raise InvalidInput("filter must be a string", scim_type="invalidFilter")
    sort_by = get.get("sortby")
    if sort_by is not None and not isinstance(sort_by, str):
        raise InvalidInput("sortBy must be an attribute name")
    return ListQuery(
        filter=filt or None,
        start_index=max(1, start) if start is not None else 1,
        count=_int(get.get("count"), "count"),
        sort_by=sort_by or None,
        descending=isinstance(order, str) and order.lower() == "descending",
        attributes=_names(get.get("attributes"), "attributes"),
        excluded=_names(get.get("excludedattributes"), "excludedAttributes"),
    )


def from_params(params: Mapping[str, str]) -> ListQuery:
    """From a query string; parameter names are case-insensitive."""
    return _build({k.lower(): v for k, v in params.items()})


def from_search_body(body: Any) -> ListQuery:
    """From a ``SearchRequest`` body (POST .search)."""
    if not isinstance(body, dict):
        raise InvalidSyntax("the request body must be a JSON object")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or SEARCH_REQUEST not in schemas:
        raise InvalidSyntax(f"schemas must include {SEARCH_REQUEST}")
    return _build({str(k).lower(): v for k, v in body.items()})
