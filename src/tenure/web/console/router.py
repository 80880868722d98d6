"""Assembles the console pages (server-rendered, for platform support and organisation admins)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from tenure.domain.errors import NotFound
from tenure.web.console import audit, drift, login, overview, people, requests, restore, rooms
from tenure.web.console.render import TEMPLATES, secure_headers
from tenure.web.console.route import ConsoleRoute
from tenure.web.runtime import Runtime

STATIC = TEMPLATES.parent / "static"
STATIC_FILES = {"console.css": "text/css", "console.js": "text/javascript"}


def build(runtime: Runtime) -> APIRouter:
    """Every console route; none appears in the admin API's OpenAPI document."""
    router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
    for pages in (login, overview, rooms, people, restore, requests, drift, audit):
        router.include_router(pages.router, include_in_schema=False)

    @router.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC_FILES:
            raise NotFound(f"no file {name}")
        response = FileResponse(
            STATIC / name,
            media_type=STATIC_FILES[name],
            headers={"Cache-Control": "public, max-age=300"},
        )
        return secure_headers(response)

    return router
