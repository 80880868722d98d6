"""Entry point for ASGI servers: ``uvicorn --factory tenure.web.asgi:build``."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from tenure.settings import Settings
from tenure.web.app import create_app


def build() -> FastAPI:
    """Settings from the environment, read when the server process starts."""
    app = create_app(Settings.from_env())
    # What is loaded by now (modules, tables, schemas: about 145k objects) lives as long as
    # the process. Frozen, the collector's full passes stop walking it: they had taken up to
    # 144 ms each, holding up every request on the event loop (docs/performance.md).
    gc.freeze()
    return app
