"""SCIM Bulk (RFC 7644 §3.7): many operations in one request, with ``bulkId`` references.

Each operation runs in its own transaction through the same handler as a lone request, so
one failure leaves the others intact; ``failOnErrors`` stops the run after that many errors.
"""

from __future__ import annotations

import re
from typing import Any

from tenure.domain.errors import InvalidInput, InvalidSyntax, PayloadTooLarge, TenureError
from tenure.scim.errors import error_body, from_exception
from tenure.scim.schema import BULK_REQUEST, BULK_RESPONSE
from tenure.web import scim_handlers as h

_PATH = re.compile(r"^/(Users|Groups)(?:/([^/]+))?/?$")  # a trailing slash, as over HTTP
_REF = re.compile(r"bulkId:([^\s\"/]+)")


class _Unresolved(Exception):
    def __init__(self, bulk_id: str) -> None:
        self.bulk_id = bulk_id


def _resolve_path(path: str, ids: dict[str, str]) -> str:
    """Replace a ``bulkId:X`` reference in an operation's path (``/Users/bulkId:X``)."""
    if "bulkId:" not in path:
        return path
    return _REF.sub(lambda match: _created(match.group(1), ids), path)


def _resolve(value: Any, ids: dict[str, str]) -> Any:
    """Replace the values of ``data`` that are a ``bulkId:X`` reference (a member's
    ``value``, a manager's) with the ids the earlier operations created. A reference is a
    whole value: text that only mentions one (a title, say) is left as it is."""
    if isinstance(value, str):
        whole = _REF.fullmatch(value) if value.startswith("bulkId:") else None
        return value if whole is None else _created(whole.group(1), ids)
    if isinstance(value, list):
        return [_resolve(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, ids) for k, v in value.items()}
    return value


def _created(bulk_id: str, ids: dict[str, str]) -> str:
    if bulk_id not in ids:
        raise _Unresolved(bulk_id)
    return ids[bulk_id]


def _one(call: h.Call, op: dict[str, Any], ids: dict[str, str]) -> h.Result:
    method = op.get("method")
    path = op.get("path")
    if not isinstance(method, str) or not isinstance(path, str):
        raise InvalidSyntax("each operation needs a method and a path")
    path = _resolve_path(path, ids)
    data = _resolve(op.get("data"), ids)
    match = _PATH.match(path)
    if match is None:
        raise InvalidInput(f"{path} is not a path Bulk can address", scim_type="invalidPath")
    kind, rid = match.groups()
    method = method.upper()
    version = op.get("version") if isinstance(op.get("version"), str) else None
    if rid is None and method == "POST":
        bulk_id = op.get("bulkId")
        if not isinstance(bulk_id, str) or not bulk_id.strip():
            raise InvalidSyntax("a POST operation needs a bulkId")
        return h.create_user(call, data) if kind == "Users" else h.create_group(call, data)
    if rid is not None and method in ("PUT", "PATCH", "DELETE"):
        if kind == "Users":
            if method == "PUT":
                return h.replace_user(call, rid, data, version)
            if method == "PATCH":
                return h.patch_user(call, rid, data, version)
            return h.delete_user(call, rid, version)
        if method == "PUT":
            return h.replace_group(call, rid, data, version)
        if method == "PATCH":
            return h.patch_group(call, rid, data, version)
        return h.delete_group(call, rid, version)
    raise InvalidInput(f"{method} {path} is not a Bulk operation", scim_type="invalidSyntax")


def run(call: h.Call, body: Any) -> h.Result:
    if not isinstance(body, dict):
        raise InvalidSyntax("the request body must be a JSON object")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or BULK_REQUEST not in schemas:
        raise InvalidSyntax(f"schemas must include {BULK_REQUEST}")
    operations = body.get("Operations")
    if not isinstance(operations, list):
        raise InvalidSyntax("Operations must be a list")
    limit = call.runtime.settings.bulk_max_operations
    if len(operations) > limit:
        raise PayloadTooLarge(f"a Bulk request may carry at most {limit} operations")
    fail_on = body.get("failOnErrors")
    if fail_on is not None and (
        isinstance(fail_on, bool) or not isinstance(fail_on, int) or fail_on < 1
    ):
        raise InvalidInput("failOnErrors must be a positive integer")

    bulk_ids = [op.get("bulkId") for op in operations if isinstance(op, dict) and op.get("bulkId")]
    repeated = sorted({str(b) for b in bulk_ids if bulk_ids.count(b) > 1})
    if repeated:
        # A reference to a bulkId used twice would be ambiguous (RFC 7644 §3.7.2).
        raise InvalidInput(f"bulkId must be unique in a request: {', '.join(repeated)}")
    ids: dict[str, str] = {}
    results: dict[int, dict[str, Any]] = {}
    pending = list(enumerate(operations))
    errors = 0
    # Forward references are allowed (§3.7.2): defer an operation until its bulkId exists.
    while pending and (fail_on is None or errors < fail_on):
        deferred: list[tuple[int, Any]] = []
        for index, op in pending:
            if fail_on is not None and errors >= fail_on:
                break
            entry: dict[str, Any] = {}
            if isinstance(op, dict):
                entry = {
                    "method": op.get("method"),
                    **({"bulkId": op["bulkId"]} if "bulkId" in op else {}),
                }
            try:
                if not isinstance(op, dict):
                    raise InvalidSyntax("each operation must be an object")
                result = _one(call, op, ids)
            except _Unresolved as missing:
                deferred.append((index, op))
                entry["_missing"] = missing.bulk_id
                continue
            except TenureError as error:
                errors += 1
                entry.update(status=str(error.status), response=from_exception(error))
            else:
                entry["status"] = str(result.status)
                if result.body and isinstance(result.body.get("meta"), dict):
                    entry["location"] = result.body["meta"].get("location")
                    entry["version"] = result.body["meta"].get("version")
                    if isinstance(op.get("bulkId"), str) and result.status == 201:
                        ids[op["bulkId"]] = result.body["id"]
            results[index] = entry
        if len(deferred) == len(pending):
            for index, op in deferred:  # nothing resolved this pass: the references are dangling
                errors += 1
                results[index] = {
                    "method": op.get("method"),
                    "bulkId": op.get("bulkId"),
                    "status": "409",
                    "response": error_body(
                        409, "bulkId reference cannot be resolved", "invalidValue"
                    ),
                }
            break
        pending = deferred
    return h.Result(
        200, {"schemas": [BULK_RESPONSE], "Operations": [results[i] for i in sorted(results)]}
    )
