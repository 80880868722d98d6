"""A SCIM request and its answer as the ASGI server passes them, without Starlette's objects.

IdPs send a steady stream of small requests, and Starlette's request and response objects, with
the standard library's query parsing, ran a fifth of the Python bytecodes of a look-up
(docs/performance.md): headers found by scanning and decoding the raw list at every read, the
query parsed into a multi-dict, an answer's headers built and then searched again to add one.
Here the headers and the query are read once into plain dicts, and the answer goes out as the
two ASGI messages it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

SCIM_JSON = b"application/scim+json"


@dataclass(slots=True)
class Incoming:
    """What SCIM reads of a request."""

    method: str
    path: str  # the whole path, as the client sent it (a root path included)
    headers: dict[str, str]  # names lower-cased (ASGI), the first value of each
    params: dict[str, str]  # the query: names lower-cased, the last value of each
    path_params: dict[str, Any]
    scope: Scope
    receive: Receive

    async def body(self, limit: int) -> bytes | None:
        """The whole body, or None once it grows past ``limit`` bytes (the rest unread)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def incoming(scope: Scope, receive: Receive) -> Incoming:
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return Incoming(
        scope["method"],
        scope["path"],
        headers,
        parse_query(scope["query_string"]),
        scope.get("path_params", {}),
        scope,
        receive,
    )


def parse_query(query: bytes) -> dict[str, str]:
    """A query string as Starlette reads one (``a=1&b``: names and values ``+``- and
    percent-decoded, a name without ``=`` has the value ""), names lower-cased (SCIM's are
    case-insensitive), the last value of a name winning."""
    params: dict[str, str] = {}
    if not query:
        return params
    for part in query.decode("latin-1").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        params[_decoded(name).lower()] = _decoded(value)
    return params


def _decoded(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return _unquote(text) if "%" in text else text


_DIGITS = "0123456789abcdefABCDEF"
_BYTE = {a + b: bytes.fromhex(a + b) for a in _DIGITS for b in _DIGITS}


def _unquote(text: str) -> str:
    """``urllib.parse.unquote`` (UTF-8, undecodable bytes replaced) with one decoding of the
    whole text; a text it might read otherwise (a character past ASCII) goes to it."""
    if not text.isascii():
        return unquote(text)
    parts = text.split("%")
    out = [parts[0].encode()]
    for part in parts[1:]:
        byte = _BYTE.get(part[:2])
        if byte is None:  # not an escape: kept as it is
            out.append(b"%" + part.encode())
        else:
            out.append(byte)
            out.append(part[2:].encode())
    return b"".join(out).decode("utf-8", "replace")


async def answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    """Send a SCIM answer: its status, its headers and a JSON body (which may be empty). As
    Starlette's response would: no Content-Length where HTTP allows no body."""
    raw = [(b"content-type", SCIM_JSON), *headers]
    if status >= 200 and status not in (204, 304):
        raw.append((b"content-length", b"%d" % len(body)))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
