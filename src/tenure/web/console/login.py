"""Logging in with an API key, logging out, and choosing the organisation (support keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import Response

from tenure.web.admin.deps import runtime
from tenure.web.console.render import redirect, render, safe_next
from tenure.web.console.route import ConsoleRoute
from tenure.web.console.session import KEY_COOKIE, ORG_COOKIE, Viewing
from tenure.web.runtime import Runtime

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
Rt = Annotated[Runtime, Depends(runtime)]
Next = Annotated[str | None, Query(alias="next")]
NextField = Annotated[str, Form(alias="next")]
KEY_MAX_AGE = 12 * 3600  # a console session lasts a working day; the key itself does not expire


@router.get("/login")
def login_form(request: Request, target: Next = None) -> Response:
    return render(request, "login.html", title="Log in", next=safe_next(target), error=None)


@router.post("/login")
def login(
    request: Request, rt: Rt, key: Annotated[str, Form()] = "", target: NextField = "/"
) -> Response:
    secret = key.strip()
    found = rt.api_key(secret) if secret else None
    if found is None:
        return render(
            request,
            "login.html",
            http_status=401,
            title="Log in",
            next=safe_next(target),
            error="That key is not valid, or it was revoked. Paste an org-admin or support key.",
        )
    response = redirect(safe_next(target))
    response.set_cookie(
        KEY_COOKIE,
        secret,
        max_age=KEY_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(ORG_COOKIE, path="/")
    return response


def _logged_out() -> Response:
    response = redirect("/login", "You are logged out.")
    response.delete_cookie(KEY_COOKIE, path="/")
    response.delete_cookie(ORG_COOKIE, path="/")
    return response


@router.post("/logout")
def logout() -> Response:
    return _logged_out()


@router.get("/logout")
def logout_link() -> Response:
    """Logging out changes nothing on the server, so a plain link may do it too."""
    return _logged_out()


@router.get("/orgs")
def choose_org_form(request: Request, who: Viewing, target: Next = None) -> Response:
    return render(
        request, "orgs.html", title="Choose an organisation", orgs=who.orgs, next=safe_next(target)
    )


@router.post("/orgs")
def choose_org(who: Viewing, org: Annotated[str, Form()], target: NextField = "/") -> Response:
    chosen = next((o for o in who.orgs if org in (o.id, o.slug)), None)
    if chosen is None:
        return redirect("/orgs", "Choose one of the organisations in the list.", "error")
    response = redirect(safe_next(target), f"Now working on {chosen.name}.")
    response.set_cookie(ORG_COOKIE, chosen.id, httponly=True, samesite="strict", path="/")
    return response
