"""Rendering console pages: one autoescaping Jinja2 environment, readable filters, safe headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FLASH_COOKIE = "tenure_flash"

# Inline scripts and styles are never needed: the console ships one CSS and one JS file.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Same-origin requests keep their Referer, which the CSRF check falls back on.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

START_REASONS = {
    "group_add": "added to the group",
    "reinstated": "reinstated on re-add",
    "user_reactivated": "account re-enabled",
    "restored": "restored by support",
    "manual": "added by hand",
    "adopted": "adopted by SCIM",
    "restore_undone": "restore undone",
}
END_REASONS = {
    "group_removal": "removed from the group",
    "user_deactivated": "account disabled in the IdP",
    "user_deleted": "account deleted in the IdP",
    "group_deleted": "group deleted in the IdP",
    "superseded_by_restore": "replaced by a restore",
    "manual": "ended by hand",
    "restore_undone": "restore undone",
}
ACTOR_KINDS = {
    "scim_token": "IdP (SCIM)",
    "api_key": "API key",
    "cli": "command line",
    "system": "Tenure",
}


def parse_moment(value: Any) -> datetime | None:
    """A datetime from an ISO string or a datetime (naive means UTC), else None."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(value: Any, missing: str = "—") -> str:
    """``3 Mar 2026, 09:14 UTC``."""
    moment = parse_moment(value)
    if moment is None:
        return missing
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def day(value: Any, missing: str = "—") -> str:
    """``3 Mar 2026``."""
    moment = parse_moment(value)
    return f"{moment.day} {moment:%b %Y}" if moment else missing


def actor(value: Any) -> str:
    """``api_key:01HX…`` as ``API key …9f2c``."""
    if not isinstance(value, str) or not value:
        return "—"
    kind, _, ident = value.partition(":")
    label = ACTOR_KINDS.get(kind)
    if label is None:
        return value
    if kind in ("system", "cli"):
        return label
    return f"{label} …{ident[-6:]}" if ident else label


def short(value: Any) -> str:
    """The last characters of an id: enough to tell records apart on a page."""
    return f"…{value[-8:]}" if isinstance(value, str) and len(value) > 10 else str(value or "")


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


@cache
def environment() -> jinja2.Environment:
    """Built on first use (never at import); autoescaping is on for every template."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        day=day,
        actor=actor,
        short=short,
        pretty_json=pretty_json,
        plural=plural,
        start_reason=lambda v: START_REASONS.get(v, v or "—"),
        end_reason=lambda v: END_REASONS.get(v, v or "—"),
    )
    return env


def read_flash(request: Request) -> tuple[str, str] | None:
    """The one-shot message a redirect left for the page after it: (kind, text)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    kind, _, text = unquote(raw).partition(":")
    return (kind if kind in ("ok", "error") else "ok", text[:500])


def secure_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def render(request: Request, template: str, http_status: int = 200, **context: Any) -> HTMLResponse:
    """A page: the template with the viewer, the flash message and the current path."""
    flash = read_flash(request)
    body = (
        environment()
        .get_template(template)
        .render(
            viewer=getattr(request.state, "viewer", None),
            flash=flash,
            path=request.url.path,
            **context,
        )
    )
    response = HTMLResponse(body, status_code=http_status)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, flash: str | None = None, kind: str = "ok") -> RedirectResponse:
    """Post/redirect/get: 303 to ``url`` with an optional one-shot message."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(
            FLASH_COOKIE,
            quote(f"{kind}:{flash}"[:600]),
            max_age=60,
            path="/",
            httponly=True,
            samesite="strict",
        )
    return response


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to return to; anything else (another host, ``//x``) becomes ``default``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    # Browsers drop tabs and newlines inside URLs, so "/\t/evil.example" would become "//evil…".
    if any(c.isspace() or not c.isprintable() for c in value):
        return default
    return value
