"""Assembles the admin API: every route under /api/v1, errors as {"error": {...}}."""

from __future__ import annotations

from fastapi import APIRouter

from tenure.web.admin import restores, rooms
from tenure.web.admin.route import AdminRoute
from tenure.web.runtime import Runtime


def build(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1", route_class=AdminRoute)
    router.include_router(rooms.router)
    router.include_router(restores.router)
    return router
