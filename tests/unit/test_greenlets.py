"""SCIM use cases run in kept greenlets on the event loop: awaits work inside them, results and
errors come back as from a plain call, and a greenlet serves one call after another."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from greenlet import getcurrent
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet

from tenure.web import greenlets
from tests.unit import own_loop

T = TypeVar("T")
REQUEST = contextvars.ContextVar("request", default="none")


def _run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return own_loop.run(main())


def test_a_call_awaits_on_the_loop_and_returns_its_result() -> None:
    async def later(x: int) -> int:
        await asyncio.sleep(0.001)
        return x * 2

    def use_case() -> tuple[int, bool]:
        return await_(later(1)) + await_(later(20)), in_greenlet()

    async def main() -> tuple[int, bool]:
        return await greenlets.run(use_case)

    assert _run(main) == (42, True)


def test_calls_on_the_same_thread_reuse_one_greenlet() -> None:
    seen: list[object] = []

    def use_case() -> None:
        await_(asyncio.sleep(0))
        seen.append(getcurrent())

    async def main() -> None:
        for _ in range(5):
            await greenlets.run(use_case)

    _run(main)
    assert len(seen) == 5
    assert len({id(g) for g in seen}) == 1


def test_concurrent_calls_each_get_their_own_greenlet_and_context() -> None:
    async def main() -> list[tuple[str, str]]:
        async def one(name: str) -> tuple[str, str]:
            REQUEST.set(name)

            def use_case() -> tuple[str, str]:
                before = REQUEST.get()
                await_(asyncio.sleep(0.005))  # the others run meanwhile
                return before, REQUEST.get()

            return await greenlets.run(use_case)

        return await asyncio.gather(*(one(f"r{i}") for i in range(6)))

    assert _run(main) == [(f"r{i}", f"r{i}") for i in range(6)]


def test_an_error_raised_in_a_call_reaches_the_caller_and_the_greenlet_serves_again() -> None:
    class Refused(Exception):
        pass

    def fails() -> None:
        await_(asyncio.sleep(0))
        raise Refused("no")

    async def main() -> int:
        with pytest.raises(Refused, match="no"):
            await greenlets.run(fails)
        return await greenlets.run(lambda: 7)

    assert _run(main) == 7


def test_an_error_of_an_awaited_coroutine_is_raised_where_it_was_awaited() -> None:
    async def broken() -> None:
        raise LookupError("gone")

    def use_case() -> str:
        try:
            await_(broken())
        except LookupError as error:
            return f"handled {error}"
        return "not raised"

    async def main() -> str:
        return await greenlets.run(use_case)

    assert _run(main) == "handled gone"


def test_a_cancelled_request_cancels_the_call_and_frees_the_greenlet() -> None:
    reached: list[str] = []

    def slow() -> None:
        try:
            await_(asyncio.sleep(10))
        except asyncio.CancelledError:
            reached.append("cancelled inside")
            raise

    async def main() -> int:
        task = asyncio.create_task(greenlets.run(slow))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await greenlets.run(lambda: 1)

    assert _run(main) == 1
    assert reached == ["cancelled inside"]


def test_an_idle_greenlet_does_not_keep_the_last_error() -> None:
    class Big(Exception):
        pass

    def fails() -> None:
        raise Big("x" * 100)

    async def main() -> None:
        try:
            await greenlets.run(fails)
        except Big as error:
            caught.append(error)

    caught: list[BaseException] = []
    _run(main)
    error = caught.pop()
    gc.collect()
    # Only this frame's name holds it (and getrefcount's own argument).
    assert sys.getrefcount(error) == 2


def test_each_thread_keeps_its_own_greenlets() -> None:
    results: list[int] = []

    def in_thread() -> None:
        async def main() -> int:
            return await greenlets.run(lambda: await_(asyncio.sleep(0, 5)))

        results.append(asyncio.run(main()))

    async def here() -> int:
        return await greenlets.run(lambda: await_(asyncio.sleep(0, 3)))

    assert _run(here) == 3
    threads = [threading.Thread(target=in_thread) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [5, 5, 5]
    assert _run(here) == 3
