"""The ceiling: one trivial route on Tenure's own web stack (Starlette, uvicorn, httptools, uvloop).

Whatever Tenure does per request costs on top of this, so its throughput here bounds what any
Tenure endpoint can reach on the same machine with the same load generator.

Run as ``python -m bench.ceiling --port P``.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_BODY = {"ok": True}


async def ping(request: Request) -> JSONResponse:
    """Answer GET with a tiny JSON; POST reads (and drops) the body first, like a create would."""
    if request.method == "POST":
        await request.body()
        return JSONResponse(_BODY, status_code=201)
    return JSONResponse(_BODY)


app = Starlette(routes=[Route("/ping", ping, methods=["GET", "POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
