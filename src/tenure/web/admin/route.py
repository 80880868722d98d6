"""The admin API's route class: every failure answers in the API's error format."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from tenure.domain.errors import TenureError

log = logging.getLogger("tenure.api")
NUL = "\x00"


class AdminRoute(APIRoute):
    """Every admin route answers in the API's error format, whatever goes wrong.

    Values the database cannot hold (a NUL character in text on PostgreSQL) are the client's
    error, not a 500; an unexpected failure is logged and answered without closing the
    connection mid-response.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            path = str(request.scope.get("path", ""))
            body = await request.body() if request.method in ("POST", "PATCH", "PUT") else b""
            if (
                NUL in path
                or any(NUL in v for v in request.query_params.values())
                or b"\\u0000" in body
            ):
                return admin_error(400, "invalid_input", "text must not contain NUL (U+0000)")
            try:
                return await handle(request)
            except (TenureError, HTTPException, RequestValidationError):
                raise
            except DataError:
                return admin_error(
                    400,
                    "invalid_input",
                    "a value cannot be stored: text must not contain NUL (U+0000)",
                )
            except Exception:
                log.exception("unexpected error in %s %s", request.method, request.url.path)
                return admin_error(500, "internal_error", "internal error; see the server log")

        return guarded


def admin_error(status: int, code: str, message: str) -> Response:
    """The admin API's error body: ``{"error": {"code": …, "message": …}}``."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
