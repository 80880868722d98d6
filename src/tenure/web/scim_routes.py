"""The SCIM HTTP surface under /scim/v2: authentication, bodies, and the Error envelope."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from tenure.domain.audit import Actor
from tenure.domain.errors import (
    InvalidInput,
    InvalidSyntax,
    MethodNotAllowed,
    PayloadTooLarge,
    TenureError,
    Unauthorized,
)
from tenure.scim import discovery
from tenure.scim.errors import error_body, from_exception
from tenure.scim.query import ListQuery, from_params, from_search_body
from tenure.web import scim_bulk
from tenure.web import scim_handlers as h
from tenure.web.runtime import Runtime

log = logging.getLogger("tenure.scim")
SCIM_JSON = "application/scim+json"
Handler = Callable[[h.Call, Request, Any], h.Result]
Endpoint = Callable[[Request], Awaitable[Response]]
# (method, resource type, whether the path names one resource) -> its endpoint
Direct = dict[tuple[str, str, bool], Endpoint]


def scim_response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    content = orjson.dumps(body) if body is not None else b""
    return Response(content, status_code=status, headers=headers, media_type=SCIM_JSON)


def error_response(error: TenureError) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="tenure"'} if error.status == 401 else None
    return scim_response(error.status, from_exception(error), headers)


def _request_id() -> str:
    """An id for one request's log lines and audit entries. It correlates, it guards nothing,
    so it needs no system call for random bytes, as ``uuid4`` makes."""
    return f"{random.getrandbits(128):032x}"


_BASES: dict[tuple[Any, ...], str] = {}


def _base_url(request: Request, base_path: str) -> str:
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
        found = _BASES[key] = str(request.base_url).rstrip("/") + base_path
    return found


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _body(request: Request, runtime: Runtime) -> Any:
    raw = await request.body()
    if len(raw) > runtime.settings.max_body_bytes:
        raise PayloadTooLarge(
            f"the request body is larger than {runtime.settings.max_body_bytes} bytes"
        )
    if not raw:
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidSyntax("the request body is not valid JSON") from None
    if b"\\u0000" in raw and _has_nul(body):
        raise InvalidInput(_NUL_DETAIL)
    return body


# PostgreSQL cannot store U+0000 in text or jsonb (it answered 500 for "\u0000" in a
# userName, a filter or an id); no IdP sends it, so it is refused on both backends alike.
_NUL_DETAIL = "strings must not contain the NUL character (U+0000)"


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def endpoint(runtime: Runtime, handler: Handler, *, needs_body: bool = False) -> Endpoint:
    """Wrap a handler: authenticate, read the body, run it off the event loop, render errors."""

    async def run(request: Request) -> Response:
        request_id = request.headers.get("x-request-id") or _request_id()
        try:
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > runtime.settings.max_body_bytes:
                raise PayloadTooLarge(
                    f"the request body is larger than {runtime.settings.max_body_bytes} bytes"
                )
            token = _bearer(request)
            if token is None:
                raise Unauthorized("a bearer token is required")
            known, found = runtime.cached_scim_token(token)
            if known and found is None:
                raise Unauthorized("the bearer token is not valid")
            params = request.query_params.values()
            if "\x00" in request.scope["path"] or any("\x00" in v for v in params):
                raise InvalidInput(_NUL_DETAIL)
            body = await _body(request, runtime) if needs_body else None
            base = _base_url(request, runtime.settings.base_path)

            def work() -> h.Result:
                # The token look-up (on a cache miss) and the use case run together.
                credential = found if known else runtime.scim_token(token)
                if credential is None:
                    raise Unauthorized("the bearer token is not valid")
                token_id, org_id = credential
                actor = Actor("scim_token", token_id)
                return handler(h.Call(runtime, org_id, actor, request_id[:64], base), request, body)

            result = await runtime.run_scim(work)
            # Rendered inside the try: a body that cannot be encoded must still answer with
            # a SCIM Error, not a dropped connection.
            response = scim_response(result.status, result.body, result.headers)
        except TenureError as error:
            response = error_response(error)
        except Exception:
            log.exception(
                "unexpected error in %s %s (request %s)",
                request.method,
                request.url.path,
                request_id,
            )
            response = scim_response(
                500, error_body(500, f"internal error; quote request id {request_id}")
            )
        response.headers["X-Request-Id"] = request_id
        return response

    return run


def _q(request: Request) -> Any:
    return from_params(request.query_params)


def _public(runtime: Runtime, build: Callable[[str, Request], Any]) -> Endpoint:
    """Discovery endpoints: still authenticated (they describe one organisation's service)."""

    def handler(call: h.Call, request: Request, _body: Any) -> h.Result:
        return h.Result(200, build(call.base_url, request))

    return endpoint(runtime, handler)


def _listed(docs: list[dict[str, Any]], request: Request, path: str) -> Any:
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


def _schemas(base: str, request: Request) -> Any:
    return _listed(discovery.schemas(base), request, "/Schemas")


def _resource_types(base: str, request: Request) -> Any:
    return _listed(discovery.resource_types(base), request, "/ResourceTypes")


def _read_only(runtime: Runtime) -> Endpoint:
    def handler(_call: h.Call, request: Request, _body: Any) -> h.Result:
        raise MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")

    return endpoint(runtime, handler)


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

    def one(r: Request) -> str:
        return str(r.path_params["id"])

    def if_match(r: Request) -> str | None:
        return r.headers.get("if-match")

    return {
        ("GET", False): endpoint(runtime, lambda c, r, b: res.list(c, _q(r))),
        ("POST", False): endpoint(
            runtime, lambda c, r, b: res.create(c, b, _q(r)), needs_body=True
        ),
        ("GET", True): endpoint(
            runtime, lambda c, r, b: res.get(c, one(r), _q(r), r.headers.get("if-none-match"))
        ),
        ("PUT", True): endpoint(
            runtime, lambda c, r, b: res.replace(c, one(r), b, if_match(r), _q(r)), needs_body=True
        ),
        ("PATCH", True): endpoint(
            runtime, lambda c, r, b: res.patch(c, one(r), b, if_match(r), _q(r)), needs_body=True
        ),
        ("DELETE", True): endpoint(runtime, lambda c, r, b: res.delete(c, one(r), if_match(r))),
    }


def _resource_routes(runtime: Runtime, path: str, res: Resource) -> list[BaseRoute]:
    """The routes of one resource type."""
    found = _resource_endpoints(runtime, res)
    search = endpoint(runtime, lambda c, r, b: res.list(c, from_search_body(b)), needs_body=True)
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
    ep = endpoint

    def spc(base: str, _r: Request) -> Any:
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
            ep(runtime, lambda c, r, b: h.search_all(c, from_search_body(b)), needs_body=True),
            methods=["POST"],
        ),
        Route(
            "/Bulk",
            ep(runtime, lambda c, r, b: scim_bulk.run(c, b), needs_body=True),
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
