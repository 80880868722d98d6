"""The SCIM HTTP surface under /scim/v2: authentication, bodies, and the Error envelope."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from tenure.domain.audit import Actor
from tenure.domain.errors import (
    InvalidInput,
    InvalidSyntax,
    MethodNotAllowed,
    PayloadTooLarge,
    TenureError,
    Unauthorized,
)
from tenure.domain.text import NUL_DETAIL, first_unstorable
from tenure.scim import discovery
from tenure.scim.errors import error_body, from_exception
from tenure.scim.query import ListQuery, from_params, from_search_body
from tenure.web import scim_bulk
from tenure.web import scim_handlers as h
from tenure.web.runtime import Runtime
from tenure.web.scim_http import SCIM_JSON, Incoming, answer, incoming

log = logging.getLogger("tenure.scim")
Handler = Callable[[h.Call, Incoming, Any], h.Result]
# (method, resource type, whether the path names one resource) -> its endpoint
Direct = dict[tuple[str, str, bool], "Endpoint"]


def scim_response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    media_type = SCIM_JSON.decode()
    return Response(_encoded(body), status_code=status, headers=headers, media_type=media_type)


def error_response(error: TenureError) -> Response:
    """A SCIM Error as a Starlette response (for errors raised outside the endpoints)."""
    return scim_response(error.status, from_exception(error), _extra(error))


def _request_id() -> str:
    """An id for one request's log lines and audit entries. It correlates, it guards nothing,
    so it needs no system call for random bytes, as ``uuid4`` makes."""
    return f"{random.getrandbits(128):032x}"


_BASES: dict[tuple[Any, ...], str] = {}


def _base_url(request: Incoming, base_path: str) -> str:
    """The SCIM base URL as this request reached it (``meta.location`` and ``Location``); the
    same few hosts ask again and again, so each is worked out once."""
    scope = request.scope
    key = (
        scope.get("scheme"),
        request.headers.get("host"),
        str(scope.get("server")),
        scope.get("app_root_path", scope.get("root_path")),
        base_path,
    )
    found = _BASES.get(key)
    if found is None:
        if len(_BASES) > 1000:
            _BASES.clear()
        found = _BASES[key] = str(Request(scope).base_url).rstrip("/") + base_path
    return found


def _bearer(request: Incoming) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _too_large(runtime: Runtime) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is larger than {runtime.settings.max_body_bytes} bytes"
    )


async def _body(request: Incoming, runtime: Runtime) -> Any:
    raw = await request.body(runtime.settings.max_body_bytes)
    if raw is None:
        raise _too_large(runtime)
    if not raw:
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidSyntax("the request body is not valid JSON") from None
    # orjson refuses half a surrogate pair; only an escape can make a NUL (domain/text.py).
    unstorable = first_unstorable(body) if b"\\u0000" in raw else None
    if unstorable is not None:
        raise InvalidInput(unstorable)
    return body


class Endpoint:
    """An ASGI endpoint around a handler: authenticate, read the body, run the handler (see
    :meth:`Runtime.run_scim`), answer, with every error as a SCIM Error. The routes call it
    as an application, and so does ``TenureApp`` for the requests it finds directly."""

    __slots__ = ("handler", "needs_body", "runtime")

    def __init__(self, runtime: Runtime, handler: Handler, *, needs_body: bool = False) -> None:
        self.runtime, self.handler, self.needs_body = runtime, handler, needs_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = incoming(scope, receive)
        request_id = request.headers.get("x-request-id") or _request_id()
        try:
            result = await self._run(request, request_id)
            # Rendered inside the try: a body that cannot be encoded must still answer with
            # a SCIM Error, not a dropped connection.
            status, body, headers = result.status, _encoded(result.body), result.headers
        except TenureError as error:
            status, body, headers = error.status, _encoded(from_exception(error)), _extra(error)
        except Exception:
            log.exception(
                "unexpected error in %s %s (request %s)", request.method, request.path, request_id
            )
            detail = f"internal error; quote request id {request_id}"
            status, body, headers = 500, _encoded(error_body(500, detail)), {}
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        raw.append((b"x-request-id", request_id.encode("latin-1")))
        await answer(send, status, body, raw)

    async def _run(self, request: Incoming, request_id: str) -> h.Result:
        runtime = self.runtime
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > runtime.settings.max_body_bytes:
            raise _too_large(runtime)  # said before it is read, whatever else is wrong
        token = _bearer(request)
        if token is None:
            raise Unauthorized("a bearer token is required")
        known, found = runtime.cached_scim_token(token)
        if known and found is None:
            raise Unauthorized("the bearer token is not valid")
        if "\x00" in request.path or any("\x00" in v for v in request.params.values()):
            raise InvalidInput(NUL_DETAIL)
        body = await _body(request, runtime) if self.needs_body else None
        base = _base_url(request, runtime.settings.base_path)
        handler = self.handler

        def work() -> h.Result:
            # The token look-up (on a cache miss) and the use case run together.
            credential = found if known else runtime.scim_token(token)
            if credential is None:
                raise Unauthorized("the bearer token is not valid")
            token_id, org_id = credential
            actor = Actor("scim_token", token_id)
            return handler(h.Call(runtime, org_id, actor, request_id[:64], base), request, body)

        return await runtime.run_scim(work)


def _encoded(body: Any) -> bytes:
    return orjson.dumps(body) if body is not None else b""


def _extra(error: TenureError) -> dict[str, str]:
    """The headers an error carries besides its body."""
    return {"WWW-Authenticate": 'Bearer realm="tenure"'} if error.status == 401 else {}


def _q(request: Incoming) -> Any:
    return from_params(request.params)


def _public(runtime: Runtime, build: Callable[[str, Incoming], Any]) -> Endpoint:
    """Discovery endpoints: still authenticated (they describe one organisation's service)."""

    def handler(call: h.Call, request: Incoming, _body: Any) -> h.Result:
        return h.Result(200, build(call.base_url, request))

    return Endpoint(runtime, handler)


def _listed(docs: list[dict[str, Any]], request: Incoming, path: str) -> Any:
    """A discovery collection (a ListResponse), or one document of it by id."""
    wanted = request.path_params.get("id")
    if wanted is None:
        return {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": len(docs),
            "startIndex": 1,
            "itemsPerPage": len(docs),
            "Resources": docs,
        }
    for doc in docs:
        if doc["id"] == wanted:
            return doc
    raise h.not_found(f"{path}/{wanted}")


def _schemas(base: str, request: Incoming) -> Any:
    return _listed(discovery.schemas(base), request, "/Schemas")


def _resource_types(base: str, request: Incoming) -> Any:
    return _listed(discovery.resource_types(base), request, "/ResourceTypes")


def _read_only(runtime: Runtime) -> Endpoint:
    def handler(_call: h.Call, request: Incoming, _body: Any) -> h.Result:
        raise MethodNotAllowed(f"{request.method} is not allowed on {request.path}")

    return Endpoint(runtime, handler)


@dataclass(frozen=True, slots=True)
class Resource:
    """The handlers of one resource type; every route of it is built the same way."""

    list: Callable[[h.Call, ListQuery], h.Result]
    create: Callable[[h.Call, Any, ListQuery | None], h.Result]
    get: Callable[[h.Call, str, ListQuery, str | None], h.Result]
    replace: Callable[[h.Call, str, Any, str | None, ListQuery | None], h.Result]
    patch: Callable[[h.Call, str, Any, str | None, ListQuery | None], h.Result]
    delete: Callable[[h.Call, str, str | None], h.Result]


USERS = Resource(
    h.list_users, h.create_user, h.get_user, h.replace_user, h.patch_user, h.delete_user
)
GROUPS = Resource(
    h.list_groups, h.create_group, h.get_group, h.replace_group, h.patch_group, h.delete_group
)


def _resource_endpoints(runtime: Runtime, res: Resource) -> dict[tuple[str, bool], Endpoint]:
    """RFC 7644 §3.2: the collection and one resource by id, by method."""

    def one(r: Incoming) -> str:
        return str(r.path_params["id"])

    def if_match(r: Incoming) -> str | None:
        return r.headers.get("if-match")

    return {
        ("GET", False): Endpoint(runtime, lambda c, r, b: res.list(c, _q(r))),
        ("POST", False): Endpoint(
            runtime, lambda c, r, b: res.create(c, b, _q(r)), needs_body=True
        ),
        ("GET", True): Endpoint(
            runtime, lambda c, r, b: res.get(c, one(r), _q(r), r.headers.get("if-none-match"))
        ),
        ("PUT", True): Endpoint(
            runtime, lambda c, r, b: res.replace(c, one(r), b, if_match(r), _q(r)), needs_body=True
        ),
        ("PATCH", True): Endpoint(
            runtime, lambda c, r, b: res.patch(c, one(r), b, if_match(r), _q(r)), needs_body=True
        ),
        ("DELETE", True): Endpoint(runtime, lambda c, r, b: res.delete(c, one(r), if_match(r))),
    }


def _resource_routes(runtime: Runtime, path: str, res: Resource) -> list[BaseRoute]:
    """The routes of one resource type."""
    found = _resource_endpoints(runtime, res)
    search = Endpoint(runtime, lambda c, r, b: res.list(c, from_search_body(b)), needs_body=True)
    return [
        *(
            Route(f"{path}/{{id}}" if by_id else path, ep, methods=[method])
            for (method, by_id), ep in found.items()
        ),
        Route(f"{path}/.search", search, methods=["POST"]),
    ]


def direct_table(routes: Sequence[BaseRoute]) -> Direct:
    """The endpoints of the routes ``/{type}`` and ``/{type}/{id}``, by method (HEAD left to
    the routes), for :func:`direct`."""
    table: Direct = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        kind, slash, rest = route.path[1:].partition("/")
        if "/" in kind or (slash and rest != "{id}"):
            continue
        if not isinstance(route.endpoint, Endpoint):
            continue
        for method in (route.methods or set()) - {"HEAD"}:
            # The first route wins, as in Starlette's routing.
            table.setdefault((method, kind, bool(slash)), route.endpoint)
    return table


def direct(table: Direct, scope: Scope) -> tuple[Endpoint, str | None] | None:
    """The endpoint of a request on ``/{type}`` or ``/{type}/{id}`` (``/Users``,
    ``/Groups/{id}``…) by a method a route there serves (:func:`direct_table`), and the id;
    None for anything else, which the routes answer (``/Users/.search``, a trailing slash,
    HEAD, 404 and 405). IdPs send almost nothing but the former, and finding them here spares
    Starlette's walk over every route, with its regular expressions, and its wrappers around
    the endpoint (about a twentieth of a look-up's CPU)."""
    path, root = scope["path"], scope["root_path"]  # root: where the SCIM routes are mounted
    kind, slash, ident = path[len(root) + 1 if path.startswith(root) else 1 :].partition("/")
    if slash and (not ident or "/" in ident):
        return None
    found = table.get((scope["method"], kind, bool(slash)))
    return None if found is None else (found, ident if slash else None)


def routes(runtime: Runtime) -> list[BaseRoute]:
    """The SCIM routes."""
    s = runtime.settings

    def spc(base: str, _r: Incoming) -> Any:
        return discovery.service_provider_config(
            base,
            max_operations=s.bulk_max_operations,
            max_payload=s.max_body_bytes,
            max_results=s.max_results,
        )

    ro = _read_only(runtime)
    writes = ["POST", "PUT", "PATCH", "DELETE"]
    return [
        *_resource_routes(runtime, "/Users", USERS),
        *_resource_routes(runtime, "/Groups", GROUPS),
        Route(
            "/.search",
            Endpoint(
                runtime, lambda c, r, b: h.search_all(c, from_search_body(b)), needs_body=True
            ),
            methods=["POST"],
        ),
        Route(
            "/Bulk",
            Endpoint(runtime, lambda c, r, b: scim_bulk.run(c, b), needs_body=True),
            methods=["POST"],
        ),
        Route("/ServiceProviderConfig", _public(runtime, spc), methods=["GET"]),
        Route("/ServiceProviderConfig", ro, methods=writes),
        Route("/ResourceTypes", _public(runtime, _resource_types), methods=["GET"]),
        Route("/ResourceTypes/{id}", _public(runtime, _resource_types), methods=["GET"]),
        Route("/ResourceTypes", ro, methods=writes),
        Route("/ResourceTypes/{id}", ro, methods=writes),
        Route("/Schemas", _public(runtime, _schemas), methods=["GET"]),
        Route("/Schemas/{id:path}", _public(runtime, _schemas), methods=["GET"]),
        Route("/Schemas", ro, methods=writes),
        Route("/Schemas/{id:path}", ro, methods=writes),
    ]
