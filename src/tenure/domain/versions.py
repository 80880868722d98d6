"""Resource versions and the ETag preconditions clients send (RFC 7232, RFC 7644 §3.14)."""

from __future__ import annotations

from tenure.domain.errors import PreconditionFailed


def matches(version: int, header: str | None) -> bool:
    """Whether an ``If-Match`` / ``If-None-Match`` value names this version (or ``*``)."""
    if header is None:
        return False
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    return "*" in tags or str(version) in tags


def check_if_match(version: int, if_match: str | None, what: str) -> None:
    """Refuse a change to a resource that changed since the client read it."""
    if if_match is not None and not matches(version, if_match):
        raise PreconditionFailed(f"the {what} changed since that version was read (If-Match)")
