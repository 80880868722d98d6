"""Synchronous use cases on the event loop, in greenlets kept from one request to the next.

A SCIM use case is synchronous code; on PostgreSQL it runs in a greenlet on the event loop, and
each wait for the database (SQLAlchemy's ``await_``) hands the loop back to other requests.
SQLAlchemy's ``greenlet_spawn`` makes a new greenlet per call. On CPython 3.11 a new greenlet's
first frame takes a fresh chunk of frame stack from the system (``mmap``), and its end gives the
chunk back (``munmap``): with the page faults that follow, about a seventh of a look-up's CPU
(docs/performance.md). The greenlets here are kept, each with its chunk, and serve one call after
another. They speak SQLAlchemy's protocol, so ``await_`` works in them as in its own.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from greenlet import GreenletExit, getcurrent, greenlet  # type: ignore[import-untyped]

T = TypeVar("T")
KEPT = 32  # idle greenlets kept per thread; more run at once only under a burst


class _Done:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    def take(self) -> BaseException:
        """The error, no longer held here (the idle greenlet keeps this object until its next
        call, and an error's traceback holds every frame it went through)."""
        error, self.error = self.error, None
        assert error is not None
        return error


class _Worker(greenlet):  # type: ignore[misc]
    """Runs one callable after another. Between calls it waits in :func:`_serve`, switched to
    with the next; what a call returns or raises goes to the parent as ``_Done``/``_Failed``,
    and anything else it switches there is an awaitable (SQLAlchemy's ``await_``)."""

    __sqlalchemy_greenlet_provider__ = True  # what SQLAlchemy's await_ looks for


def _serve(fn: Callable[[], Any]) -> None:
    while True:
        try:
            out: _Done | _Failed = _Done(fn())
        except GreenletExit:  # the greenlet itself is being ended (collected while in a call)
            raise
        except BaseException as error:
            out = _Failed(error)
        fn = getcurrent().parent.switch(out)


_idle = threading.local()  # a greenlet switches only within the thread that made it


async def run(fn: Callable[[], T]) -> T:
    """``fn()`` in a kept greenlet, awaiting what it awaits through ``await_``; its result, or
    the exception it raised."""
    kept: list[_Worker] | None = getattr(_idle, "greenlets", None)
    if kept is None:
        kept = _idle.greenlets = []
    here = getcurrent()
    if kept:
        worker = kept.pop()
        worker.parent = here  # where await_ hands its awaitables
    else:
        worker = _Worker(_serve, here)
    worker.gr_context = here.gr_context  # the request's context variables, as in SQLAlchemy's
    result = worker.switch(fn)
    while True:
        if isinstance(result, _Done | _Failed):
            break
        try:
            value = await result
        except BaseException:
            result = worker.throw(*sys.exc_info())
        else:
            result = worker.switch(value)
    if len(kept) < KEPT:
        kept.append(worker)
    if isinstance(result, _Failed):
        raise result.take()
    value, result.value = result.value, None
    return value  # type: ignore[no-any-return]
