"""Assembles the admin API routers."""

from __future__ import annotations

from fastapi import APIRouter

from tenure.web.runtime import Runtime


def build(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    return router
