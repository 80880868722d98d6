"""User resources on the wire ↔ the service layer's ``UserData`` / ``UserView``."""

from __future__ import annotations

from typing import Any

from tenure.domain.directory import User
from tenure.scim.resources import normalise
from tenure.scim.schema import ENTERPRISE_SCHEMA, user_schema
from tenure.services.users import UserData, UserView


def data_from_resource(payload: Any, *, keep_active_if_absent: bool = False) -> UserData:
    """Validate a User body (POST, PUT, or the result of a PATCH)."""
    profile = normalise(payload, user_schema(), required=("userName",))
    active = profile.get("active")
    if active is None and not keep_active_if_absent:
        active = True
    external_id = profile.get("externalId")
    display_name = profile.get("displayName")
    emails = [e["value"] for e in profile.get("emails", []) if isinstance(e.get("value"), str)]
    return UserData(
        user_name=profile["userName"],
        external_id=external_id if isinstance(external_id, str) else None,
        active=active,
        display_name=display_name if isinstance(display_name, str) else None,
        emails=emails,
        profile=profile,
    )


def stored_resource(user: User) -> dict[str, Any]:
    """The stored attributes with the id: what a PATCH starts from."""
    return {**user.profile, "id": user.id}


def to_resource(view: UserView, base_url: str) -> dict[str, Any]:
    """The User as returned to clients (RFC 7643 §4.1), ``meta`` and ``groups`` included."""
    user = view.user
    # The stored attributes after ``schemas`` and ``id`` (a key of the profile keeps its place).
    resource: dict[str, Any] = {"schemas": None, "id": user.id, **user.profile}
    if not resource["schemas"]:
        resource["schemas"] = [user_schema().core]
    enterprise = resource.get(ENTERPRISE_SCHEMA)
    manager = enterprise.get("manager") if isinstance(enterprise, dict) else None
    if (
        isinstance(enterprise, dict)
        and isinstance(manager, dict)
        and isinstance(manager.get("value"), str)
    ):
        # RFC 7643 §4.3: manager.$ref is "the URI of the SCIM resource representing the
        # User's manager"; computed here from the id (the PATCH engine stores only the id),
        # so it is the same whichever form the IdP sent the manager in.
        resource[ENTERPRISE_SCHEMA] = {
            **enterprise,
            "manager": {**manager, "$ref": f"{base_url}/Users/{manager['value']}"},
        }
    if "active" in user.profile:
        # Unassigned after a PATCH remove (RFC 7644 §3.5.2.2), so omitted (RFC 7643 §2.5);
        # Tenure then reads the user as active, like a POST that sends no ``active``.
        resource["active"] = user.active
    if view.groups:
        resource["groups"] = [
            {"value": gid, "display": name, "$ref": f"{base_url}/Groups/{gid}", "type": "direct"}
            for gid, name in view.groups
        ]
    resource["meta"] = {
        "resourceType": "User",
        "created": user.created_at.isoformat().replace("+00:00", "Z"),
        "lastModified": user.updated_at.isoformat().replace("+00:00", "Z"),
        "location": f"{base_url}/Users/{user.id}",
        "version": etag(user.version),
    }
    return resource


def etag(version: int) -> str:
    return f'W/"{version}"'
