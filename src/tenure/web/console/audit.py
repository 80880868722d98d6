"""The audit log, newest first, filtered by action and resource, a page at a time."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from tenure.domain.audit import AuditAction
from tenure.services import directory
from tenure.web.console.render import parse_moment, render
from tenure.web.console.route import ConsoleRoute
from tenure.web.console.session import Acting


def _day_after(moment: datetime | None) -> datetime | None:
    """The end of ``moment``'s day; no end on the last day a datetime can hold."""
    if moment is None:
        return None
    try:
        return moment + timedelta(days=1)
    except OverflowError:
        return None


router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
PAGE = 50


@router.get("/audit")
def audit_page(
    request: Request,
    ctx: Acting,
    action: str | None = None,
    resource_id: str | None = None,
    request_id: str | None = None,
    actor: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
) -> Response:
    given = (
        ("action", action),
        ("resource_id", resource_id),
        ("request_id", request_id),
        ("actor", actor),
        ("since", since),
        ("until", until),
    )
    filters = {k: v.strip() for k, v in given if v and v.strip()}
    items, nxt = directory.audit_page(
        ctx.uow(write=False),
        action=filters.get("action"),
        resource_id=filters.get("resource_id"),
        actor=filters.get("actor"),
        request_id=filters.get("request_id"),
        # A date (from the date picker) reads as midnight UTC; ``until`` includes its day.
        since=parse_moment(filters.get("since")),
        until=_day_after(parse_moment(filters.get("until"))),
        cursor=cursor,
        limit=PAGE,
    )
    older = f"/audit?{urlencode({**filters, 'cursor': nxt})}" if nxt else None
    newest = f"/audit?{urlencode(filters)}" if cursor else None
    return render(
        request,
        "audit.html",
        title="Audit log",
        items=items,
        filters=filters,
        older=older,
        newest=newest,
        actions=[a.value for a in AuditAction],
    )
