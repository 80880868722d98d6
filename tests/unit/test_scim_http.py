"""A SCIM request is read, and its answer sent, as Starlette's own objects would do it."""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import quote, unquote

import pytest
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from tenure.web.scim_http import SCIM_JSON, answer, incoming, parse_query
from tenure.web.scim_http import _unquote as fast_unquote
from tests.unit import own_loop

PIECES = [
    "a",
    "Z",
    "0",
    " ",
    "+",
    "%",
    "%2",
    "%20",
    "%22",
    "%3D",
    "%26",
    "%C3%A9",
    "%E2%82",
    "%ac",
    "%zz",
    "%%",
    "é",
    "€",
    "=",
    "&",
    "&&",
    "userName",
    "eq",
    '"',
    "\\",
    "%00",
    "%FF",
    "%fF",
]


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))


def test_percent_decoding_matches_the_standard_library() -> None:
    rng = random.Random(7)
    texts = [_random_text(rng) for _ in range(3000)]
    texts += [quote('userName eq "ann.lee@example.com"'), "%C3", "%C3%", "a%C3%A9b", "%E2%82%AC"]
    for text in texts:
        assert fast_unquote(text) == unquote(text), text


def test_a_query_string_reads_as_starlettes_with_names_lower_cased() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        raw = _random_text(rng).encode("utf-8")
        expected = {k.lower(): v for k, v in QueryParams(raw).items()}
        assert parse_query(raw) == expected, raw
    assert parse_query(b"Filter=userName%20eq%20%22x%22&COUNT=2&count=3&attributes") == {
        "filter": 'userName eq "x"',
        "count": "3",
        "attributes": "",
    }


def _scope(headers: list[tuple[bytes, bytes]], query: bytes = b"") -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/scim/v2/Users",
        "query_string": query,
        "headers": headers,
    }


def test_headers_keep_the_first_value_of_a_name_as_starlette_does() -> None:
    async def nothing() -> dict[str, Any]:
        return {}

    request = incoming(
        _scope(
            [
                (b"authorization", b"Bearer one"),
                (b"authorization", b"Bearer two"),
                (b"if-match", b'W/"3"'),
            ]
        ),
        nothing,
    )
    assert request.headers["authorization"] == "Bearer one"
    assert request.headers.get("if-match") == 'W/"3"'
    assert request.path_params == {}


def _body(chunks: list[bytes], limit: int) -> bytes | None:
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return own_loop.run(incoming(_scope([]), receive).body(limit))


def test_a_body_is_read_whole_and_refused_past_the_limit() -> None:
    assert _body([b'{"a":', b" 1}"], 100) == b'{"a": 1}'
    assert _body([b""], 100) == b""
    assert _body([b"x" * 60, b"y" * 60], 100) is None  # the rest is not read


def test_a_client_gone_before_its_body_ended_is_a_disconnect() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    with pytest.raises(ClientDisconnect):
        own_loop.run(incoming(_scope([]), receive).body(100))


def _sent(status: int, body: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    mine: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []

    async def run() -> None:
        async def keep_mine(message: dict[str, Any]) -> None:
            mine.append(message)

        async def keep_theirs(message: dict[str, Any]) -> None:
            theirs.append(message)

        async def receive() -> dict[str, Any]:
            return {}

        await answer(keep_mine, status, body, [(b"etag", b'W/"1"')])
        response = Response(
            body, status_code=status, headers={"ETag": 'W/"1"'}, media_type=SCIM_JSON.decode()
        )
        await response({"type": "http", "method": "GET"}, receive, keep_theirs)

    own_loop.run(run())
    return mine, theirs


@pytest.mark.parametrize(("status", "body"), [(200, b'{"id":"1"}'), (201, b"{}"), (204, b"")])
def test_an_answer_carries_what_starlettes_response_would(status: int, body: bytes) -> None:
    mine, theirs = _sent(status, body)
    assert [m["type"] for m in mine] == [m["type"] for m in theirs]
    assert mine[0]["status"] == theirs[0]["status"] == status
    assert sorted(mine[0]["headers"]) == sorted(theirs[0]["headers"])
    assert mine[1]["body"] == theirs[1]["body"] == body
