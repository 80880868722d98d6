"""The console's route class: CSRF check on POST, and errors as pages instead of JSON.

The app-wide handlers answer the admin API in JSON; a person in a browser should instead
see a friendly page with the right status, so every console route handles its own errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from tenure.domain.errors import InvalidInput, TenureError
from tenure.domain.text import first_unstorable
from tenure.web.console.render import redirect, render, safe_next, secure_headers
from tenure.web.console.session import ORG_COOKIE, LoginRequired, OrgRequired, check_same_origin

log = logging.getLogger("tenure.console")

TITLES = {
    400: "That did not work",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible right now",
    412: "Changed meanwhile",
}


def _back(request: Request) -> str | None:
    """Where the visitor came from (this host only), for the error page's way back."""
    referer = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc != request.headers.get("host", ""):
        return None
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(target, default="") or None


def error_page(request: Request, status: int, message: str) -> Response:
    return render(
        request,
        "error.html",
        http_status=status,
        title=TITLES.get(status, "Something went wrong"),
        message=message,
        back=_back(request),
        status_code=status,
    )


def _problems(error: RequestValidationError) -> str:
    names = [str(e.get("loc", ("", "?"))[-1]) for e in error.errors()]
    return "Some fields are missing or not valid: " + ", ".join(sorted(set(names)))


async def _refuse_unstorable(request: Request) -> None:
    """Text the databases cannot hold (``domain/text.py``), in the path, the query or a
    form, is the visitor's error on both backends (on PostgreSQL it had been a 500)."""
    texts = [str(request.scope.get("path", "")), *request.query_params.values()]
    if request.method == "POST":
        form = await request.form()  # kept on the request: the handler reads the same
        texts.extend(v for v in form.values() if isinstance(v, str))
    why = first_unstorable(texts)
    if why is not None:
        raise InvalidInput(f"That text cannot be used: {why}.")


class ConsoleRoute(APIRoute):
    """An APIRoute whose failures render as console pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                if request.method == "POST":
                    check_same_origin(request)
                await _refuse_unstorable(request)
                response = await handler(request)
            except LoginRequired as need:
                return secure_headers(redirect(f"/login?next={quote(need.next_path, safe='')}"))
            except OrgRequired as need:
                return secure_headers(redirect(f"/orgs?next={quote(need.next_path, safe='')}"))
            except TenureError as error:
                response = error_page(request, error.status, error.detail)
            except RequestValidationError as error:
                response = error_page(request, 400, _problems(error))
            except HTTPException as error:
                response = error_page(request, error.status_code, str(error.detail))
            except DataError:
                response = error_page(request, 400, "A value cannot be stored.")
            except Exception:
                log.exception("console error in %s %s", request.method, request.url.path)
                response = error_page(
                    request,
                    500,
                    "Something went wrong on our side; the details are in the server log.",
                )
            chosen = getattr(request.state, "viewer", None)
            if chosen is not None and chosen.org_from_query and chosen.org is not None:
                # A link with ?org= switches the organisation for the pages after it too.
                response.set_cookie(
                    ORG_COOKIE, chosen.org.id, httponly=True, samesite="strict", path="/"
                )
            return secure_headers(response)

        return guarded
