"""Admin API dependencies: who is calling, and for which organisation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request

from tenure.adapters.db.uow import SqlUnitOfWork, retry_races
from tenure.domain.audit import Actor
from tenure.domain.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from tenure.web.runtime import Runtime

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    org_id: str | None  # None for platform support
    role: str  # "org-admin" | "support"

    @property
    def is_support(self) -> bool:
        return self.role == "support"

    @property
    def actor(self) -> Actor:
        return Actor("api_key", self.key_id, self.role)


@dataclass(frozen=True, slots=True)
class OrgContext:
    """An authenticated caller acting on one organisation."""

    runtime: Runtime
    principal: Principal
    org_id: str
    request_id: str

    def uow(self, *, write: bool = True) -> SqlUnitOfWork:
        return self.runtime.uow(self.org_id, self.principal.actor, self.request_id, write=write)

    def run(self, use_case: Callable[[SqlUnitOfWork], T]) -> T:
        """Run a writing use case; if a concurrent request wins a race (a unique index, a
        deadlock), run it again on a fresh unit of work, so it ends as a serial run would."""
        return retry_races(lambda: use_case(self.uow()))


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def principal(request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> Principal:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        cookie = request.cookies.get("tenure_key")
        if not cookie:
            raise Unauthorized("an API key is required (Authorization: Bearer <key>)")
        secret = cookie
    found = rt.api_key(secret.strip())
    if found is None:
        raise Unauthorized("the API key is not valid")
    return Principal(*found)


def org_context(
    request: Request,
    rt: Annotated[Runtime, Depends(runtime)],
    who: Annotated[Principal, Depends(principal)],
    org: Annotated[
        str | None, Query(description="Organisation id or slug (support keys only)")
    ] = None,
) -> OrgContext:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    if not who.is_support:
        assert who.org_id is not None
        if org is not None and org != who.org_id:
            with rt.platform() as uow:
                named = uow.platform.org(org)
            if named is None or named.id != who.org_id:
                raise Forbidden("an org-admin key can only act on its own organisation")
        return OrgContext(rt, who, who.org_id, request_id[:64])
    if org is None:
        raise InvalidInput("support keys name the organisation with ?org=<id or slug>")
    with rt.platform() as uow:
        found = uow.platform.org(org)
    if found is None:
        raise NotFound(f"no organisation {org!r}")
    return OrgContext(rt, who, found.id, request_id[:64])


Who = Annotated[Principal, Depends(principal)]
Org = Annotated[OrgContext, Depends(org_context)]
