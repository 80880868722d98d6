"""Time, in one place, so rules can be tested at any instant."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Treat a naive datetime (as SQLite returns them) as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
