"""``create_app(settings)``: the whole HTTP service, built on demand (nothing at import)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send

from tenure.adapters.db.engine import make_engine, make_loop_engine
from tenure.domain.errors import MethodNotAllowed, NotFound, TenureError
from tenure.settings import Settings
from tenure.web import scim_routes
from tenure.web.admin.route import admin_error
from tenure.web.console.route import error_page
from tenure.web.runtime import Runtime

log = logging.getLogger("tenure")


class TenureApp(FastAPI):
    """The service. A request under the SCIM base path goes straight to the SCIM routes, past
    FastAPI's middleware (its error pages, telemetry and dependency clean-up): SCIM handlers
    authenticate, answer and render every error themselves, and IdPs send most requests. What
    the routes do not serve (a path, a method) still answers as a SCIM Error."""

    def __init__(self, scim: Mount, **options: Any) -> None:
        super().__init__(**options)
        self._scim = scim
        self._direct = scim_routes.direct_table(scim.routes)
        self._under = scim.path + "/"

    def _scim_scope(self, scope: Scope) -> Scope | None:
        """What the SCIM mount adds to a request's scope when it serves the path, else None.
        The common case, the service at the root of its host, is told by the path's prefix
        without the mount's regular expression (as much CPU as finding the endpoint)."""
        if not scope.get("root_path") and scope["path"].startswith(self._under):
            return {
                "path_params": dict(scope.get("path_params", ())),
                "app_root_path": scope.get("app_root_path", ""),
                "root_path": self._scim.path,
                "endpoint": self._scim.app,
            }
        match, child = self._scim.matches(scope)
        return child if match is not Match.NONE else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            child = self._scim_scope(scope)
            if child is not None:
                scope.update(child)
                scope["app"] = self
                if scope["path"].endswith("/") and len(scope["path"]) > len(scope["root_path"]) + 1:
                    # ``/Users/`` is ``/Users``: a base URL typed with a trailing slash gets
                    # answers, where Starlette's routes would answer a bare redirect.
                    scope["path"] = scope["path"].rstrip("/")
                found = scim_routes.direct(self._direct, scope)
                if found is not None:  # a resource: its endpoint answers every error itself
                    endpoint, ident = found
                    scope["path_params"] = {"id": ident} if ident is not None else {}
                    await endpoint(scope, receive, send)
                    return
                try:
                    await self._scim.handle(scope, receive, send)
                except StarletteHTTPException as exc:
                    error = _as_error(Request(scope), exc)
                    await scim_routes.error_response(error)(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _as_error(request: Request, exc: StarletteHTTPException) -> TenureError:
    """Starlette's 404 and 405 (and any other status it raises) as Tenure's errors."""
    if exc.status_code == 405:
        return MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
    if exc.status_code == 404:
        return NotFound(f"nothing at {request.url.path}")
    error = TenureError(str(exc.detail))
    error.status = exc.status_code  # type: ignore[misc]
    return error


def create_app(settings: Settings) -> FastAPI:
    """The service: SCIM under /scim/v2, the admin API under /api/v1, the console under /."""
    # The admin API and the console serve people: a ping per request spares them an error
    # page after a database restart, where SCIM (IdPs, at volume) retries the use case instead.
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size, pre_ping=True)
    loop_engine = make_loop_engine(settings.database_url, pool_size=settings.db_pool_size)
    runtime = Runtime(settings, engine, loop_engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await runtime.close()

    scim = Mount(settings.base_path, routes=scim_routes.routes(runtime))
    app = TenureApp(
        scim,
        title="Tenure admin API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.router.routes.append(scim)

    from tenure.web.admin import router as admin_router
    from tenure.web.console import router as console_router

    app.include_router(admin_router.build(runtime))
    app.include_router(console_router.build(runtime))

    @app.get("/healthz", include_in_schema=False)
    def health() -> Response:
        """For load balancers: 200 when the database answers, 503 when it does not."""
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception as error:  # the reason, not a traceback: an outage is no bug
            log.warning("health check: the database does not answer: %s", error)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        error = _as_error(request, exc)
        if request.url.path.startswith(settings.base_path):
            return scim_routes.error_response(error)
        if not request.url.path.startswith("/api/"):
            return error_page(request, error.status, error.detail)  # a person, in a browser
        return admin_error(error.status, error.code, error.detail)

    @app.exception_handler(TenureError)
    async def domain_error(request: Request, exc: TenureError) -> Response:
        if request.url.path.startswith(settings.base_path):
            return scim_routes.error_response(exc)
        return admin_error(exc.status, exc.code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg')}"
            for e in exc.errors()
        )
        return admin_error(400, "invalid_input", problems or "the request is not valid")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return admin_error(
            500, "internal_error", "internal error; the details are in the server log"
        )

    return app
