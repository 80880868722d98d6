"""Who is using the console, for which organisation, and whether a POST really came from it.

The API key lives in an HttpOnly, SameSite=Strict cookie (the admin API's ``principal``
already accepts it). SameSite=Strict stops cross-site POSTs in current browsers; the
Origin/Referer check below is the second lock for older ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from tenure.adapters.db.uow import SqlUnitOfWork
from tenure.domain.errors import Forbidden, NotFound, Unauthorized
from tenure.domain.organisation import Organisation
from tenure.services import platform
from tenure.web.admin.deps import OrgContext, Principal, org_context, principal, runtime
from tenure.web.runtime import Runtime

KEY_COOKIE = "tenure_key"
ORG_COOKIE = "tenure_org"


class LoginRequired(Exception):
    """No valid key: the visitor goes to /login and comes back to ``next_path``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class OrgRequired(Exception):
    """A support key has not chosen an organisation yet."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True, slots=True)
class Viewer:
    """A logged-in key, the organisations it may see, and the one chosen (if any)."""

    principal: Principal
    orgs: list[Organisation]
    org: Organisation | None
    org_from_query: bool = False

    @property
    def is_support(self) -> bool:
        return self.principal.is_support

    @property
    def role_label(self) -> str:
        return "Platform support" if self.is_support else "Organisation admin"


@dataclass(frozen=True, slots=True)
class Console:
    """A viewer acting on one organisation: every service call gets a unit of work from here."""

    viewer: Viewer
    context: OrgContext
    org: Organisation

    @property
    def is_support(self) -> bool:
        return self.viewer.is_support

    @property
    def role(self) -> str:
        return self.viewer.principal.role

    def uow(self, *, write: bool = True) -> SqlUnitOfWork:
        return self.context.uow(write=write)

    @property
    def may_restore(self) -> bool:
        """Support always; an org admin only where the organisation allows self-service."""
        return self.org.may_restore_directly(self.role)


def _here(request: Request) -> str:
    """Where to come back to after logging in: this page, or the overview after a form."""
    if request.method != "GET":
        return "/"
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query


def viewer(request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> Viewer:
    """The logged-in key; a missing or revoked key sends the visitor to /login."""
    if not request.cookies.get(KEY_COOKIE):
        raise LoginRequired(_here(request))
    try:
        who = principal(request, rt)
    except Unauthorized:
        raise LoginRequired(_here(request)) from None
    if who.is_support:
        orgs = platform.list_orgs(rt.platform())
        wanted = request.query_params.get("org")
        ref = wanted or request.cookies.get(ORG_COOKIE)
        chosen = next((o for o in orgs if ref in (o.id, o.slug)), None) if ref else None
        if wanted and chosen is None:
            raise NotFound(f"no organisation {wanted!r}")
        found = Viewer(who, orgs, chosen, org_from_query=bool(wanted))
    else:
        assert who.org_id is not None
        own = platform.find_org(rt.platform(), who.org_id)
        wanted = request.query_params.get("org")
        if wanted and wanted not in (own.id, own.slug):
            raise Forbidden("an org-admin key can only act on its own organisation")
        found = Viewer(who, [own], own)
    request.state.viewer = found
    return found


def console(
    request: Request,
    rt: Annotated[Runtime, Depends(runtime)],
    who: Annotated[Viewer, Depends(viewer)],
) -> Console:
    """The viewer on its chosen organisation, through the admin API's own ``org_context``."""
    if who.org is None:
        raise OrgRequired(_here(request))
    context = org_context(request, rt, who.principal, who.org.id if who.is_support else None)
    return Console(who, context, who.org)


def check_same_origin(request: Request) -> None:
    """Refuse a POST whose Origin (or, lacking it, Referer) is not this very host."""
    host = request.headers.get("host", "")
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        raise Forbidden("this form did not come from the console (no Origin or Referer header)")
    if urlsplit(source).netloc != host:
        raise Forbidden("this form did not come from the console (its origin is another site)")


Viewing = Annotated[Viewer, Depends(viewer)]
Acting = Annotated[Console, Depends(console)]
