"""The SCIM PATCH engine (RFC 7644 §3.5.2), pure Python: no database, no web framework.

:func:`apply_patch` applies an ``Operations`` list to a User or a Group (without its members)
and returns a new dict. :func:`plan_group_patch` does the same for a Group but hands back its
member operations as ordered :class:`MemberChange` deltas, for the caller to apply in SQL, so
that a 20k-member group costs the same to patch as a 100-member one.

The standard semantics (§3.5.2.1 add, §3.5.2.2 remove, §3.5.2.3 replace) come with the
dialects that real identity providers speak, each rule documented where it is applied:

* Entra ID capitalises ops (``Add``/``Replace``/``Remove``), sends booleans as ``"True"``,
  patches ``emails[type eq "work"].value`` on users without a work e-mail (the entry is
  created), clears the manager with ``""`` or null, and removes members with a value list.
* Okta sends path-less replaces (``{"active": false}``, ``{"id": ..., "displayName": ...}``),
  echoing the resource's own ``id``, and removes members with ``members[value eq "..."]``.

Errors are the ``tenure.domain.errors`` classes, and only those, whatever JSON comes in.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

import orjson
from scim2_models import Path
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Present,
    ValuePath,
)

from tenure.domain.errors import (
    InvalidFilter,
    InvalidInput,
    InvalidPath,
    InvalidSyntax,
    Mutability,
    NoTarget,
)
from tenure.scim import shapes
from tenure.scim.patch_values import check_filter, describe, get_ci, pop_ci, set_ci, short
from tenure.scim.patch_writers import (
    Target,
    write_entries,
    write_manager,
    write_multi,
    write_single,
    write_sub_attribute,
)
from tenure.scim.schema import ENTERPRISE_SCHEMA, Attribute, ResourceSchema, group_schema

__all__ = ["GroupPatch", "MemberChange", "apply_patch", "plan_group_patch"]

OpName = Literal["add", "remove", "replace"]
_OPS: tuple[str, ...] = get_args(OpName)
# Real paths are a few dozen characters; anything this long is refused before parsing.
_MAX_PATH = 2048


@dataclass
class MemberChange:
    """One member operation of a Group PATCH, to apply as a delta on the membership table."""

    kind: Literal["add", "remove", "replace", "clear"]
    ids: list[str]  # member values (user ids), in request order, de-duplicated


@dataclass
class GroupPatch:
    """A planned Group PATCH: the group after its non-member operations, and member deltas."""

    resource: dict[str, Any]  # the group without members, after non-member ops
    members: list[MemberChange]  # member operations, in request order


@dataclass(frozen=True, slots=True)
class _Op:
    index: int
    op: OpName
    path: str | None  # None: path-less (§3.5.2.1/§3.5.2.3 "If omitted, ... the resource itself")
    value: Any


@dataclass(frozen=True, slots=True)
class _Extension:
    """The path is an extension schema URN itself: its value is an object of its attributes."""

    urn: str


@dataclass(frozen=True, slots=True)
class _Root:
    """The path is empty or the core schema URN: same as a path-less operation."""


@dataclass(frozen=True, slots=True)
class _Ignored:
    """``schemas``: the caller validates it, so PATCH leaves it alone."""


_Resolved = Target | _Extension | _Root | _Ignored


# --- reading the request ---------------------------------------------------------------------


def _read_operations(operations: Any) -> list[_Op]:
    """Validate the shape of ``Operations`` (RFC 7644 §3.5.2) into :class:`_Op` records.

    An empty list is valid (Entra ID's connectivity check sends one) and changes nothing.
    """
    if not isinstance(operations, list):
        raise InvalidSyntax(f"'Operations' must be a list, not {describe(operations)}.")
    ops: list[_Op] = []
    for index, raw in enumerate(operations):
        where = f"Operations[{index}]"
        if not isinstance(raw, dict):
            raise InvalidSyntax(f"{where} must be an object, not {describe(raw)}.")
        name = get_ci(raw, "op")
        if not isinstance(name, str) or name.strip().lower() not in _OPS:
            raise InvalidSyntax(f"{where} needs an 'op' of add, replace or remove.")
        op: OpName = _as_op(name.strip().lower())
        path = get_ci(raw, "path")
        if path is not None and not isinstance(path, str):
            raise InvalidPath(f"{where}: 'path' must be a string, not {describe(path)}.")
        path = path.strip() if path else None
        has_value = any(isinstance(k, str) and k.lower() == "value" for k in raw)
        if op != "remove" and not has_value:
            raise InvalidSyntax(f"{where}: '{op}' needs a 'value'.")
        if op == "remove" and path is None:
            # §3.5.2.2: "If 'path' is unspecified, the operation fails ... 'noTarget'".
            raise NoTarget(f"{where}: 'remove' needs a 'path'.")
        ops.append(_Op(index, op, path or None, get_ci(raw, "value")))
    return ops


def _as_op(name: str) -> OpName:
    if name == "add":
        return "add"
    return "replace" if name == "replace" else "remove"


def _parse(text: str) -> Any:
    """Parse a PATCH path with scim2-models (``attrPath / valuePath [subAttr] / attrExp``)."""
    if len(text) > _MAX_PATH:
        raise InvalidPath(f"The path {short(text)} is too long.")
    known = shapes.patch_path(text)
    if known is not None:
        return known
    try:
        node = Path(text).ast
    except Exception as exc:  # scim2-models raises its own exceptions; all mean "bad path"
        raise InvalidPath(f"The path {short(text)} is not a valid SCIM path.") from exc
    unstorable = shapes.unstorable(text, node)
    if unstorable is not None:
        raise InvalidPath(f"The path {short(text)}: {unstorable}.")
    return node


def _lookup(schema: ResourceSchema, path: AttrPath, text: str) -> tuple[str | None, Attribute]:
    found = schema.lookup(path.attr, path.uri)
    if found is None:
        raise InvalidPath(f"{short(text)}: there is no attribute {short(str(path))}.")
    return found


def _child(attr: Attribute, name: str | None, text: str) -> Attribute | None:
    if name is None:
        return None
    if attr.type != "complex":
        raise InvalidPath(f"{short(text)}: {attr.name!r} is not complex, it has no {short(name)}.")
    sub = attr.child(name)
    if sub is None:
        raise InvalidPath(f"{short(text)}: {attr.name!r} has no sub-attribute {short(name)}.")
    return sub


def _resolve(text: str, schema: ResourceSchema) -> _Resolved:
    """Resolve a path (or a key of a path-less value) against the schema."""
    node = _parse(text)
    if node is None:
        return _Root()
    if isinstance(node, Comparison | Present):
        # Errata 7122 ``attrExp``: ``emails.type eq "work"`` is ``emails[type eq "work"]``.
        path = node.attr_path
        if path.sub_attr is None:
            raise InvalidPath(f"{short(text)}: a filter path needs a sub-attribute.")
        inner: FilterNode = (
            Comparison(AttrPath(path.sub_attr), node.op, node.value)
            if isinstance(node, Comparison)
            else Present(AttrPath(path.sub_attr))
        )
        node = ValuePath(AttrPath(path.attr, None, path.uri), inner)
    if isinstance(node, AttrPath):
        if node.uri is not None and node.sub_attr is None:
            # ``urn:...:enterprise:2.0:User`` parses as attribute ``User`` of ``urn:...:2.0``.
            whole = f"{node.uri}:{node.attr}"
            ext = schema.extension(whole)
            if ext is not None:
                return _Extension(ext)
            if whole.lower() == schema.core.lower():
                return _Root()
        if node.uri is None and node.sub_attr is None and node.attr.lower() == "schemas":
            return _Ignored()
        ext, attr = _lookup(schema, node, text)
        return Target(text, ext, attr, _child(attr, node.sub_attr, text))
    if isinstance(node, ValuePath):
        if node.attr_path.sub_attr is not None:
            raise InvalidPath(f"{short(text)}: a value filter applies to an attribute.")
        ext, attr = _lookup(schema, node.attr_path, text)
        if not (attr.multi_valued and attr.type == "complex"):
            raise InvalidPath(f"{short(text)}: {attr.name!r} is not multi-valued, cannot filter.")
        check_filter(node.val_filter, attr, short(text))
        return Target(text, ext, attr, _child(attr, node.sub_attr, text), node.val_filter)
    raise InvalidPath(f"The path {short(text)} is not supported.")


# --- applying operations ---------------------------------------------------------------------


def _copied(resource: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a resource (JSON data) through orjson, several times faster than
    ``copy.deepcopy``; anything orjson cannot encode (an integer past 64 bits) is copied the
    slow way."""
    try:
        return cast("dict[str, Any]", orjson.loads(orjson.dumps(resource)))
    except orjson.JSONEncodeError:
        return copy.deepcopy(resource)


class _Patcher:
    """Applies operations to a deep copy of one resource.

    With ``plan_members`` set (Groups via :func:`plan_group_patch`), operations on
    ``members`` are recorded as :class:`MemberChange` instead of touching a list.
    """

    def __init__(
        self, resource: dict[str, Any], schema: ResourceSchema, plan_members: bool
    ) -> None:
        self.res: dict[str, Any] = _copied(resource)
        self.schema = schema
        self.members: list[MemberChange] | None = [] if plan_members else None

    def run(self, ops: list[_Op]) -> dict[str, Any]:
        for op in ops:
            if op.path is None:
                self._pathless(op, op.value)
            else:
                self._dispatch(op, _resolve(op.path, self.schema), op.value)
        for attr in self.schema.attributes.values():
            if attr.mutability == "writeOnly":
                pop_ci(self.res, attr.name)  # never hand back a password, even a stored one
        return self.res

    def _pathless(self, op: _Op, value: Any) -> None:
        """§3.5.2.1/§3.5.2.3 without path: each key of the object is an attribute path.

        Keys may be dotted (``name.givenName``) or URN-qualified, or an extension URN with an
        object value (Entra ID sends all three); ``schemas`` is ignored.
        """
        if value is None:
            raise InvalidSyntax(f"Operations[{op.index}]: a path-less '{op.op}' needs a value.")
        if not isinstance(value, dict):
            raise InvalidInput(
                f"Operations[{op.index}]: a path-less '{op.op}' needs an object value, "
                f"not {describe(value)}."
            )
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidPath(f"Operations[{op.index}]: {short(key)} is not an attribute.")
            self._dispatch(op, _resolve(key, self.schema), item)

    def _dispatch(self, op: _Op, target: _Resolved, value: Any) -> None:
        if isinstance(target, _Ignored):
            return
        if isinstance(target, _Root):
            if op.op == "remove":
                raise InvalidPath(f"Operations[{op.index}]: the resource itself cannot be removed.")
            self._pathless(op, value)
        elif isinstance(target, _Extension):
            self._extension(op, target.urn, value)
        else:
            self._target(op, target, value)

    def _extension(self, op: _Op, urn: str, value: Any) -> None:
        """The extension URN as path or key: remove/null drops it, an object is merged."""
        if op.op == "remove" or value is None:
            pop_ci(self.res, urn)
            return
        if not isinstance(value, dict):
            raise InvalidInput(f"{short(urn)} must be an object, not {describe(value)}.")
        for key, item in value.items():
            if isinstance(key, str) and key.lower() == "schemas":
                # scim2-models (used by scim2-tester) serialises an extension object with
                # its own ``schemas``; it names no attribute and is ignored, as at the top.
                continue
            target = _resolve(f"{urn}:{key}", self.schema)
            if not isinstance(target, Target) or target.ext != urn:
                raise InvalidPath(f"{short(urn)} has no attribute {short(key)}.")
            self._target(op, target, item)

    def _target(self, op: _Op, t: Target, value: Any) -> None:
        if t.attr.mutability == "readOnly" or (t.sub and t.sub.mutability == "readOnly"):
            # Okta echoes the resource's own id in path-less replaces: harmless, ignored.
            same_id = t.ext is None and t.attr.name == "id" and t.sub is None and t.filter is None
            if same_id and op.op != "remove" and value is not None and value == self.res.get("id"):
                return
            raise Mutability(f"{short(t.text)} is read-only and cannot be patched.")
        unassigns = op.op == "remove" or value is None
        if unassigns and t.attr.required and t.ext is None and t.sub is None:
            # §3.5.2.2: a required attribute removed or left unassigned is "mutability".
            raise Mutability(f"{short(t.text)} is required and cannot be removed.")
        if t.attr.mutability == "writeOnly":
            return  # password: accepted and dropped, Tenure never stores one
        if self.members is not None and t.ext is None and t.attr.name == "members":
            self.members.extend(_member_changes(op, t, value))
            return
        container = self._container(t.ext)
        if t.ext == ENTERPRISE_SCHEMA and t.attr.name == "manager":
            write_manager(op.op, container, t, value)
        elif t.filter is not None or (t.attr.multi_valued and t.sub is not None):
            write_entries(op.op, container, t, value)
        elif t.attr.multi_valued:
            write_multi(op.op, container, t, value)
        elif t.sub is not None:
            write_sub_attribute(op.op, container, t, value)
        else:
            write_single(op.op, container, t, value)
        self._settle(t.ext, container)

    def _container(self, ext: str | None) -> dict[str, Any]:
        if ext is None:
            return self.res
        current = get_ci(self.res, ext)
        return current if isinstance(current, dict) else {}

    def _settle(self, ext: str | None, container: dict[str, Any]) -> None:
        """Store an extension's dict back; the URN joins ``schemas`` once it holds a value."""
        if ext is None:
            return
        if not container:
            pop_ci(self.res, ext)
            return
        set_ci(self.res, ext, container)
        schemas = self.res.get("schemas")
        if not isinstance(schemas, list):
            self.res["schemas"] = [self.schema.core, ext]
        elif not any(isinstance(s, str) and s.lower() == ext.lower() for s in schemas):
            schemas.append(ext)


# --- group members ---------------------------------------------------------------------------


def _member_changes(op: _Op, t: Target, value: Any) -> list[MemberChange]:
    """Group ``members`` operations as deltas (never applied to a list).

    * add with a list → add those ids (null or [] adds nothing);
    * remove with a list (Entra ID) → remove exactly those; without value → clear;
    * remove ``members[value eq "id"]`` (Okta), also ``or``-joined → remove those ids;
    * replace with a list → replace; with null or [] → clear.
    """
    where = f"Operations[{op.index}]"
    if t.sub is not None:
        raise InvalidPath(f"{where}: {short(t.text)}: member sub-attributes cannot be patched.")
    if t.filter is not None:
        if op.op != "remove":
            raise InvalidPath(f"{where}: a filter on members is only supported by 'remove'.")
        return [MemberChange("remove", _dedupe(_filter_ids(t.filter, short(t.text))))]
    if op.op == "remove" and value is None:
        return [MemberChange("clear", [])]
    ids = [] if value is None else _member_ids(value, where)
    if op.op == "replace":
        return [MemberChange("replace", ids) if ids else MemberChange("clear", [])]
    return [MemberChange(op.op, ids)] if ids else []


def _member_ids(value: Any, where: str) -> list[str]:
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise InvalidInput(f"{where}: members must be a list of objects, not {describe(value)}.")
    ids: list[str] = []
    for index, item in enumerate(items):
        member = get_ci(item, "value") if isinstance(item, dict) else None
        if not isinstance(member, str) or not member:
            raise InvalidInput(f"{where}: members[{index}] needs a string 'value' (a user id).")
        ids.append(member)
    return _dedupe(ids)


def _filter_ids(node: FilterNode, where: str) -> list[str]:
    if isinstance(node, LogicalExpr) and node.op == LogicalOperator.or_:
        return [member for term in node.terms for member in _filter_ids(term, where)]
    if (
        isinstance(node, Comparison)
        and node.op == CompareOperator.eq
        and node.attr_path.attr.lower() == "value"
        and isinstance(node.value, str)
        and node.value
    ):
        return [node.value]
    raise InvalidFilter(f"{where}: members can only be selected by 'value eq \"<id>\"' (or 'or').")


def _dedupe(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


# --- public API ------------------------------------------------------------------------------


def apply_patch(
    resource: dict[str, Any], operations: list[Any], schema: ResourceSchema
) -> dict[str, Any]:
    """Apply PATCH ``Operations`` (RFC 7644 §3.5.2) to a resource; return a new dict.

    ``schema`` is ``user_schema()`` or ``group_schema()``. The input is never mutated.
    """
    return _Patcher(resource, schema, plan_members=False).run(_read_operations(operations))


def plan_group_patch(resource: dict[str, Any], operations: list[Any]) -> GroupPatch:
    """Apply a Group PATCH except for ``members``, which come back as ordered deltas."""
    patcher = _Patcher(resource, group_schema(), plan_members=True)
    result = patcher.run(_read_operations(operations))
    return GroupPatch(result, patcher.members or [])
