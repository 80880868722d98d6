"""Group resources on the wire ↔ the service layer's ``GroupData`` / ``GroupView``."""

from __future__ import annotations

from typing import Any

from tenure.domain.errors import InvalidInput
from tenure.scim.resources import normalise
from tenure.scim.schema import group_schema
from tenure.scim.users import etag
from tenure.services.groups import GroupData, GroupView


def data_from_resource(payload: Any) -> GroupData:
    profile = normalise(payload, group_schema(), required=("displayName",))
    external_id = profile.get("externalId")
    return GroupData(
        display_name=profile["displayName"],
        external_id=external_id if isinstance(external_id, str) else None,
        profile=profile,
    )


def member_ids(payload: Any) -> list[str]:
    """Member values from a Group body; each must be an object with a string ``value``."""
    if not isinstance(payload, dict):
        return []
    members = next((v for k, v in payload.items() if str(k).lower() == "members"), None)
    if members is None:
        return []
    if not isinstance(members, list):
        raise InvalidInput("members must be a list")
    ids = []
    for member in members:
        if not isinstance(member, dict) or not isinstance(member.get("value"), str):
            raise InvalidInput("each member must be an object with a string value")
        ids.append(member["value"])
    return ids


def stored_resource(view: GroupView) -> dict[str, Any]:
    return {**view.group.profile, "id": view.group.id}


def to_resource(view: GroupView, base_url: str) -> dict[str, Any]:
    group = view.group
    # Only the core schema: groups stored before MS_GROUP_SCHEMA was dropped on input still
    # carry it, and it must not reach clients (see ``normalise``).
    resource: dict[str, Any] = {"schemas": [group_schema().core], "id": group.id}
    for key, value in group.profile.items():
        if key != "schemas":
            resource[key] = value
    if view.members:
        resource["members"] = [
            # No ``display``: Tenure keeps member ids only, and a value it did not receive
            # would not round-trip (RFC 7643 §8.7.1 names value, $ref and type).
            {"value": uid, "$ref": f"{base_url}/Users/{uid}", "type": "User"}
            for uid in view.members
        ]
    resource["meta"] = {
        "resourceType": "Group",
        "created": group.created_at.isoformat().replace("+00:00", "Z"),
        "lastModified": group.updated_at.isoformat().replace("+00:00", "Z"),
        "location": f"{base_url}/Groups/{group.id}",
        "version": etag(group.version),
    }
    return resource
