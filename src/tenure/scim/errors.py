"""SCIM ``Error`` bodies (RFC 7644 §3.12): the one place errors become wire JSON."""

from __future__ import annotations

from typing import Any

from tenure.domain.errors import TenureError
from tenure.scim.schema import ERROR


def error_body(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body


def from_exception(error: TenureError) -> dict[str, Any]:
    return error_body(error.status, error.detail, error.effective_scim_type)
