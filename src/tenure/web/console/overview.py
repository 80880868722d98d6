"""The overview: organisation settings, rooms, pending requests and drift at a glance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from tenure.domain.membership import Role
from tenure.services import drift, requests, rooms
from tenure.web.console.forms import checkbox, optional_days, policy_choice, whole_number
from tenure.web.console.render import redirect, render
from tenure.web.console.route import ConsoleRoute
from tenure.web.console.session import Acting

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
ROOMS_SHOWN = 500
DRIFT_SECTIONS = {
    "not_in_group": "Active but not in the group",
    "inactive_users": "Disabled or deleted users still in rooms",
    "duplicate_identities": "One person, several identities",
    "unknown_members": "Unknown ids in groups",
    "mass_removals": "Mass removals",
}


def drift_counts(report: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(key, label, len(report.get(key, []))) for key, label in DRIFT_SECTIONS.items()]


@router.get("/")
def overview(request: Request, ctx: Acting) -> Response:
    org = rooms.get_organisation(ctx.uow(write=False))
    listed, next_rooms = rooms.list_rooms(ctx.uow(write=False), None, ROOMS_SHOWN)
    pending, more = requests.list_requests(ctx.uow(write=False), "pending", None, 99)
    report = drift.report(ctx.uow(write=False))
    return render(
        request,
        "overview.html",
        title="Overview",
        org=org,
        rooms=listed,
        more_rooms=next_rooms is not None,
        pending=len(pending),
        more_pending=more is not None,
        drift=drift_counts(report),
        roles=[r.value for r in Role],
    )


@router.post("/settings")
def save_settings(
    ctx: Acting,
    readd_policy: Annotated[str, Form()],
    reinstate_window_days: Annotated[str, Form()],
    self_service_restore: Annotated[list[str], Form()],
) -> Response:
    rooms.update_organisation(
        ctx.uow(),
        {
            "readd_policy": readd_policy,
            "reinstate_window_days": whole_number(reinstate_window_days, "the reinstate window"),
            "self_service_restore": checkbox(self_service_restore),
        },
    )
    return redirect("/", "Organisation settings saved.")


@router.get("/rooms")
def rooms_list() -> Response:
    """The rooms are listed on the overview: a typed or bookmarked /rooms goes there."""
    return redirect("/#rooms-title")


@router.post("/rooms")
def create_room(
    ctx: Acting,
    name: Annotated[str, Form()],
    readd_policy: Annotated[str, Form()] = "",
    reinstate_window_days: Annotated[str, Form()] = "",
    default_role: Annotated[str, Form()] = "",
) -> Response:
    settings: dict[str, Any] = {
        "readd_policy": policy_choice(readd_policy),
        "reinstate_window_days": optional_days(reinstate_window_days, "the reinstate window"),
    }
    if default_role:
        settings["default_role"] = default_role
    created = rooms.create_room(ctx.uow(), name, settings)
    return redirect(f"/rooms/{created['id']}", f"Room {created['name']} created.")
