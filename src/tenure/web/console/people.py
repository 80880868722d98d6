"""Finding a person, and the timeline of every membership of every identity they had."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from tenure.services import directory
from tenure.web.console.render import render
from tenure.web.console.route import ConsoleRoute
from tenure.web.console.session import Acting
from tenure.web.console.timeline import axis, bars, by_room, fold

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/people")
def search(request: Request, ctx: Acting, email: str | None = None) -> Response:
    query = (email or "").strip()
    found = directory.find_users(ctx.uow(write=False), query, query) if query else []
    return render(request, "people.html", title="People", query=query, found=found)


def current_identity(
    person: dict[str, Any], identities: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The live record a restore acts for: this one if it is live, else the newest live one."""
    if not person["deleted"]:
        return person
    live = [u for u in identities if not u["deleted"]]
    return max(live, key=lambda u: u["created_at"] or "") if live else None


@router.get("/people/{user_id}")
def person_page(request: Request, ctx: Acting, user_id: str) -> Response:
    person, identities, views = directory.person(ctx.uow(write=False), user_id)
    memberships = [v.as_dict() for v in views]
    scale = axis(memberships)
    live = current_identity(person, identities)
    names = {u["id"]: u for u in identities}
    grouped = []
    for room_id, name, items in by_room(memberships):
        shown, folded = fold(
            items,
            everything="all" in request.query_params,
            show=request.query_params.get("show"),
        )
        grouped.append((room_id, name, [(m, bars(m, scale)) for m in shown], folded))
    return render(
        request,
        "person.html",
        title=person["displayName"] or person["userName"],
        person=person,
        identities=identities,
        rooms=grouped,
        scale=scale,
        live=live,
        names=names,
        may_restore=ctx.may_restore,
    )
