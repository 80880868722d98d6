"""Builders and assertions shared by the e2e tests: plain HTTP, as an IdP sends it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
MS_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def unique(prefix: str = "u") -> str:
    """A name no other test uses (the server lives for the whole session)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def user_body(user_name: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER], "userName": user_name, **extra}


def group_body(name: str, members: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [GROUP],
        "displayName": name,
        "members": [{"value": m} for m in members or []],
        **extra,
    }


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def bulk_body(*operations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A BulkRequest (RFC 7644 §3.7) of ``operations``; ``extra`` adds ``failOnErrors``."""
    return {"schemas": [BULK_REQUEST], **extra, "Operations": list(operations)}


def create_user(client: httpx.Client, user_name: str | None = None, **extra: Any) -> dict[str, Any]:
    response = client.post("/Users", json=user_body(user_name or unique(), **extra))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def create_group(
    client: httpx.Client, name: str | None = None, members: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    response = client.post("/Groups", json=group_body(name or unique("g"), members, **extra))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def member_ids(client: httpx.Client, group_id: str) -> set[str]:
    response = client.get(f"/Groups/{group_id}")
    assert response.status_code == 200, response.text
    return {m["value"] for m in response.json().get("members", [])}


def assert_scim_error(response: httpx.Response, status: int, scim_type: str | None = None) -> None:
    """The response is the RFC 7644 §3.12 Error body for ``status`` (and ``scimType``)."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert body["schemas"] == [ERROR], body
    assert body["status"] == str(status), body
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
