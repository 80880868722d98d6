"""Assembles the console pages."""

from __future__ import annotations

from fastapi import APIRouter

from tenure.web.runtime import Runtime


def build(runtime: Runtime) -> APIRouter:
    return APIRouter()
