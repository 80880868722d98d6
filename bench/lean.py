"""A lean keep-alive HTTP/1.1 client for the latency workloads (the standard library's
``http.client`` under a small slice of httpx's interface).

Sequential latency rows (single member add/remove, group reads, restores) time one request
at a time, so what the client spends per request is in every figure. httpx spends about
0.3 ms of CPU on each request and response here, ``http.client`` about 0.05 ms: with httpx, a
3 ms server answer reads as 3.3 ms. Both servers under test are timed with this client.
Errors surface as ``httpx.TransportError`` so callers keep one ``except``.
"""

from __future__ import annotations

import http.client
import json as jsonlib
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx


class LeanResponse:
    """What the bench reads of a response."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class LeanClient:
    """One keep-alive connection to ``base_url``; reconnects once if the server closed it."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        timeout: float = 120.0,
    ) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.base_path = parts.path.rstrip("/")
        self.headers = dict(headers or {})
        self.params = dict(params or {})
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> LeanResponse:
        path = self.base_path + url
        query = {**self.params, **(params or {})}
        if query:
            path += ("&" if "?" in path else "?") + urlencode(query)
        body = None if json is None else jsonlib.dumps(json).encode()
        sent = {**self.headers, **(headers or {})}
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=sent)
                raw = conn.getresponse()
                content = raw.read()
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                # A keep-alive connection the server dropped between requests: retry once.
                if attempt == 1 and isinstance(
                    exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                ):
                    continue
                raise httpx.TransportError(f"{type(exc).__name__}: {exc}") from exc
            if raw.getheader("connection", "").lower() == "close":
                self.close()
            return LeanResponse(raw.status, {k.lower(): v for k, v in raw.getheaders()}, content)
        raise AssertionError("unreachable")

    def get(self, url: str, **kwargs: Any) -> LeanResponse:
        return self.request("GET", url, **kwargs)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> LeanClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
