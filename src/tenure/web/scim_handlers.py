"""SCIM operations as plain functions: parse, call one service, render.

Routes (``scim_routes``) and Bulk (``scim_bulk``) both call these, so a Bulk operation behaves
exactly like the same request sent alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenure.adapters.db.uow import SqlUnitOfWork, retry_races
from tenure.domain import versions
from tenure.domain.audit import Actor, AuditAction
from tenure.domain.errors import InvalidFilter, InvalidSyntax, NotFound
from tenure.scim import groups as scim_groups
from tenure.scim import users as scim_users
from tenure.scim.filter import compile_bound, compile_filter, ordering
from tenure.scim.filterable import GROUPS, USERS, Catalogue
from tenure.scim.patch import apply_patch, plan_group_patch
from tenure.scim.query import ListQuery
from tenure.scim.resources import project
from tenure.scim.schema import LIST_RESPONSE, PATCH_OP, group_schema, user_schema
from tenure.services import groups as group_service
from tenure.services import users as user_service
from tenure.services.groups import GroupData, MemberDelta
from tenure.services.users import UserData
from tenure.web.runtime import Runtime

T = TypeVar("T")


@dataclass(slots=True)
class Call:
    """One authenticated SCIM request: who, for which organisation, and where it is served."""

    runtime: Runtime
    org_id: str
    actor: Actor
    request_id: str
    base_url: str

    def uow(self, *, write: bool = True) -> SqlUnitOfWork:
        return self.runtime.scim_uow(self.org_id, self.actor, self.request_id, write=write)

    @property
    def dialect(self) -> str:
        return self.runtime.engine.dialect.name

    def run(self, fn: Callable[[], T]) -> T:
        """Run a use case; again on a fresh connection if its own was lost before it committed
        (a database restart), or if a concurrent request won a race (writes)."""
        return retry_races(fn)


@dataclass(slots=True)
class Result:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _etag_headers(resource: dict[str, Any], *, location: bool = False) -> dict[str, str]:
    meta = resource.get("meta", {})
    headers = {"ETag": meta.get("version", "")} if meta.get("version") else {}
    if location and meta.get("location"):
        headers["Location"] = meta["location"]
    return headers


def _not_modified(if_none_match: str | None, version: int) -> bool:
    return bool(if_none_match) and versions.matches(version, if_none_match)


def _check_patch_body(body: Any) -> list[Any]:
    if not isinstance(body, dict):
        raise InvalidSyntax("the request body must be a JSON object")
    schemas = body.get("schemas")
    if schemas is not None and (not isinstance(schemas, list) or PATCH_OP not in schemas):
        raise InvalidSyntax(f"schemas must include {PATCH_OP}")
    operations = next((v for k, v in body.items() if str(k).lower() == "operations"), None)
    if operations is None:
        raise InvalidSyntax("Operations is required")
    if not isinstance(operations, list):
        raise InvalidSyntax("Operations must be a list")
    return operations


def _list(q: ListQuery, catalogue: Catalogue, dialect: str) -> tuple[Any, list[Any]]:
    where: Any = None
    if q.filter:
        # Unsorted look-ups (every IdP sync) take the statement built once per shape.
        compile_ = compile_filter if q.sort_by else compile_bound
        where = compile_(q.filter, catalogue, dialect)
    return where, ordering(q.sort_by, q.descending, catalogue, dialect)


def _list_response(q: ListQuery, total: int, resources: list[dict[str, Any]]) -> Result:
    return Result(
        200,
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": q.start_index,
            "itemsPerPage": len(resources),
            "Resources": resources,
        },
    )


# -- Users ---------------------------------------------------------------------------------


def user_result(
    call: Call, view: user_service.UserView, status: int, q: ListQuery | None = None
) -> Result:
    resource = scim_users.to_resource(view, call.base_url)
    headers = _etag_headers(resource, location=status == 201)
    if q is not None:
        resource = project(resource, q.attributes, q.excluded, user_schema())
    return Result(status, resource, headers)


def list_users(call: Call, q: ListQuery) -> Result:
    where, order = _list(q, USERS, call.dialect)
    offset, limit = q.page(
        call.runtime.settings.default_page_size, call.runtime.settings.max_results
    )
    total, views = _users_page(call, where, order, offset, limit, q.wants("groups"))
    resources = [
        project(scim_users.to_resource(v, call.base_url), q.attributes, q.excluded, user_schema())
        for v in views
    ]
    return _list_response(q, total, resources)


def create_user(call: Call, body: Any, q: ListQuery | None = None) -> Result:
    data = scim_users.data_from_resource(body)
    view = call.run(lambda: user_service.create_user(call.uow(), data))
    return user_result(call, view, 201, q)


def get_user(call: Call, user_id: str, q: ListQuery, if_none_match: str | None = None) -> Result:
    view = call.run(lambda: user_service.get_user(call.uow(write=False), user_id))
    if _not_modified(if_none_match, view.user.version):
        return Result(304, None, {"ETag": scim_users.etag(view.user.version)})
    return user_result(call, view, 200, q)


def replace_user(
    call: Call, user_id: str, body: Any, if_match: str | None, q: ListQuery | None = None
) -> Result:
    # Okta sends a full PUT after a GET; an absent ``active`` must not disable anyone.
    data = scim_users.data_from_resource(body, keep_active_if_absent=True)
    view = call.run(lambda: user_service.replace_user(call.uow(), user_id, data, if_match))
    return user_result(call, view, 200, q)


def patch_user(
    call: Call, user_id: str, body: Any, if_match: str | None, q: ListQuery | None = None
) -> Result:
    operations = _check_patch_body(body)

    def patcher(user: Any) -> UserData:
        patched = apply_patch(scim_users.stored_resource(user), operations, user_schema())
        return scim_users.data_from_resource(patched)

    view = call.run(lambda: user_service.patch_user(call.uow(), user_id, patcher, if_match))
    return user_result(call, view, 200, q)


def delete_user(call: Call, user_id: str, if_match: str | None) -> Result:
    call.run(lambda: user_service.delete_user(call.uow(), user_id, if_match))
    return Result(204)


# -- Groups --------------------------------------------------------------------------------


def group_result(
    call: Call, view: group_service.GroupView, status: int, q: ListQuery | None = None
) -> Result:
    resource = scim_groups.to_resource(view, call.base_url)
    headers = _etag_headers(resource, location=status == 201)
    if q is not None:
        resource = project(resource, q.attributes, q.excluded, group_schema())
    return Result(status, resource, headers)


def list_groups(call: Call, q: ListQuery) -> Result:
    where, order = _list(q, GROUPS, call.dialect)
    offset, limit = q.page(
        call.runtime.settings.default_page_size, call.runtime.settings.max_results
    )
    total, views = _groups_page(call, where, order, offset, limit, q.wants("members"))
    resources = [
        project(scim_groups.to_resource(v, call.base_url), q.attributes, q.excluded, group_schema())
        for v in views
    ]
    return _list_response(q, total, resources)


def create_group(call: Call, body: Any, q: ListQuery | None = None) -> Result:
    data = scim_groups.data_from_resource(body)
    members = scim_groups.member_ids(body)
    view = call.run(lambda: group_service.create_group(call.uow(), data, members))
    return group_result(call, view, 201, q)


def get_group(call: Call, group_id: str, q: ListQuery, if_none_match: str | None = None) -> Result:
    view = call.run(
        lambda: group_service.get_group(
            call.uow(write=False), group_id, with_members=q.wants("members")
        )
    )
    if _not_modified(if_none_match, view.group.version):
        return Result(304, None, {"ETag": scim_users.etag(view.group.version)})
    return group_result(call, view, 200, q)


def replace_group(
    call: Call, group_id: str, body: Any, if_match: str | None, q: ListQuery | None = None
) -> Result:
    data = scim_groups.data_from_resource(body)
    members = scim_groups.member_ids(body)

    def build(_group: Any) -> tuple[GroupData, list[MemberDelta]]:
        return data, [MemberDelta("replace", members)]

    view = call.run(
        lambda: group_service.change_group(
            call.uow(), group_id, build, action=AuditAction.SCIM_GROUP_REPLACE, if_match=if_match
        )
    )
    return group_result(call, view, 200, q)


def patch_group(
    call: Call, group_id: str, body: Any, if_match: str | None, q: ListQuery | None = None
) -> Result:
    operations = _check_patch_body(body)
    # RFC 7644 §3.5.2: PATCH answers 200 with "the entire resource ... subject to the
    # attributes query parameter", or 204. A group of up to ``group_patch_members_max`` members
    # answers 200 with all of them; a larger one answers 204, so a one-member change costs the
    # same at 100 and 20 000 members (docs/decisions/0003). ``attributes`` or
    # ``excludedAttributes`` always get a 200 shaped as asked. Bulk (q is None) only reports
    # location and version.
    asked = q is not None and (q.attributes is not None or q.excluded is not None)
    with_members = asked and q is not None and q.wants("members")
    members_up_to = (
        call.runtime.settings.group_patch_members_max if q is not None and not asked else None
    )

    def build(group: Any) -> tuple[GroupData, list[MemberDelta]]:
        view = group_service.GroupView(group)
        plan = plan_group_patch(scim_groups.stored_resource(view), operations)
        data = scim_groups.data_from_resource(plan.resource)
        return data, [MemberDelta(c.kind, list(c.ids)) for c in plan.members]

    view = call.run(
        lambda: group_service.change_group(
            call.uow(),
            group_id,
            build,
            if_match=if_match,
            with_members=with_members,
            members_up_to=members_up_to,
        )
    )
    result = group_result(call, view, 200, q)
    if members_up_to is not None and view.members is None:
        return Result(204, None, result.headers)
    return result


def delete_group(call: Call, group_id: str, if_match: str | None) -> Result:
    call.run(lambda: group_service.delete_group(call.uow(), group_id, if_match))
    return Result(204)


# -- root search ---------------------------------------------------------------------------


def _users_page(
    call: Call, where: Any, order: Any, offset: int, limit: int, with_groups: bool = True
) -> tuple[int, list[user_service.UserView]]:
    return call.run(
        lambda: user_service.search_users(
            call.uow(write=False), where, order, offset, limit, with_groups=with_groups
        )
    )


def _groups_page(
    call: Call, where: Any, order: Any, offset: int, limit: int, with_members: bool
) -> tuple[int, list[group_service.GroupView]]:
    return call.run(
        lambda: group_service.search_groups(
            call.uow(write=False), where, order, offset, limit, with_members=with_members
        )
    )


def search_all(call: Call, q: ListQuery) -> Result:
    """POST /.search over Users and Groups (RFC 7644 §3.4.3); Users come first."""
    results: list[tuple[int, list[dict[str, Any]]]] = []
    offset, limit = q.page(
        call.runtime.settings.default_page_size, call.runtime.settings.max_results
    )
    failures = 0
    error: InvalidFilter | None = None
    for catalogue in (USERS, GROUPS):
        try:
            where, order = _list(q, catalogue, call.dialect)
        except InvalidFilter as exc:  # an attribute one type lacks matches nothing of that type
            failures, error = failures + 1, exc
            results.append((0, []))
            continue
        if catalogue is USERS:
            total, uviews = _users_page(call, where, order, offset, limit)
            results.append(
                (
                    total,
                    [
                        project(
                            scim_users.to_resource(v, call.base_url),
                            q.attributes,
                            q.excluded,
                            user_schema(),
                        )
                        for v in uviews
                    ],
                )
            )
        else:
            group_offset = max(0, offset - results[0][0])
            group_limit = max(0, limit - len(results[0][1]))
            total, gviews = _groups_page(
                call, where, order, group_offset, group_limit, q.wants("members")
            )
            results.append(
                (
                    total,
                    [
                        project(
                            scim_groups.to_resource(v, call.base_url),
                            q.attributes,
                            q.excluded,
                            group_schema(),
                        )
                        for v in gviews
                    ],
                )
            )
    if failures == 2 and error is not None:
        raise error
    return _list_response(q, results[0][0] + results[1][0], results[0][1] + results[1][1])


def not_found(path: str) -> NotFound:
    return NotFound(f"no SCIM endpoint at {path}")
