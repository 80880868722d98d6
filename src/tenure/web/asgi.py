"""Entry point for ASGI servers: ``uvicorn --factory tenure.web.asgi:build``."""

from __future__ import annotations

from fastapi import FastAPI

from tenure.settings import Settings
from tenure.web.app import create_app


def build() -> FastAPI:
    """Settings from the environment, read when the server process starts."""
    return create_app(Settings.from_env())
