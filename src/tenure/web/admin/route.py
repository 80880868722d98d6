"""The admin API's route class: every failure answers in the API's error format."""

from __future__ import annotations

import json
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
from tenure.domain.text import first_unstorable

log = logging.getLogger("tenure.api")


class AdminRoute(APIRoute):
    """Every admin route answers in the API's error format, whatever goes wrong.

    Text the databases cannot hold (a NUL character, half a surrogate pair) and values out
    of a column's range are the client's error, not a 500; an unexpected failure is logged
    and answered without closing the connection mid-response.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            body = await request.body() if request.method in ("POST", "PATCH", "PUT") else b""
            unstorable = _unstorable(request, body)
            if unstorable is not None:
                return admin_error(400, "invalid_input", unstorable)
            try:
                return await handle(request)
            except (TenureError, HTTPException, RequestValidationError):
                raise
            except DataError:
                return admin_error(400, "invalid_input", "a value cannot be stored")
            except Exception:
                log.exception("unexpected error in %s %s", request.method, request.url.path)
                return admin_error(500, "internal_error", "internal error; see the server log")

        return guarded


def _unstorable(request: Request, body: bytes) -> str | None:
    """Why the path, a query value or a string of the JSON body cannot be stored, or None
    (``domain/text.py``). Only an escape (``\\u``) puts such a string in a JSON body."""
    why = first_unstorable([str(request.scope.get("path", "")), *request.query_params.values()])
    if why is not None or b"\\u" not in body:
        return why
    try:
        document = json.loads(body)
    except ValueError:
        return None  # FastAPI answers what is wrong with it
    return first_unstorable(document)


def admin_error(status: int, code: str, message: str) -> Response:
    """The admin API's error body: ``{"error": {"code": …, "message": …}}``."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
