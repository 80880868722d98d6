"""Identifiers: time-ordered UUIDs (version 7 layout), so ids sort in creation order."""

from __future__ import annotations

import os
import re
import threading
import time

from tenure.domain.errors import InvalidInput

_BATCH = 4096  # random bytes drawn from the OS at a time: ids for about 400 rows
_lock = threading.Lock()
_drawn = b""
_used = 0
_owner = 0  # the process that drew them: a forked child draws its own


def _random(n: int) -> bytes:
    """``n`` bytes from the operating system's random source, drawn ahead in batches: one
    system call per few hundred ids instead of one per id (every create makes several)."""
    global _drawn, _used, _owner
    with _lock:
        if _used + n > len(_drawn) or _owner != os.getpid():
            _drawn, _used, _owner = os.urandom(_BATCH), 0, os.getpid()
        chunk = _drawn[_used : _used + n]
        _used += n
        return chunk


def new_id() -> str:
    """A UUIDv7 string (RFC 9562 §5.7): 48-bit milliseconds, then 74 random bits."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(_random(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_WRITTEN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def cursor_id(cursor: str | None) -> str | None:
    """A page cursor that names a record by its id, as :func:`new_id` writes ids; anything
    else is refused rather than read as a place in the order (which answered an empty page)."""
    if cursor is not None and _WRITTEN.fullmatch(cursor) is None:
        raise InvalidInput("cursor is not valid")
    return cursor
