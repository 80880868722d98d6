"""Validation and canonical spelling of User and Group payloads (RFC 7643 §2, §4).

Values are stored as sent, under their canonical attribute names; read-only attributes are
ignored on input (RFC 7643 §2.2) and ``password`` is never kept.
"""

from __future__ import annotations

from typing import Any

from tenure.domain.errors import InvalidInput, InvalidSyntax
from tenure.scim.schema import Attribute, ResourceSchema

IGNORED_ON_INPUT = frozenset({"id", "meta", "groups", "password", "schemas", "members"})
MAX_STRING = 4096
MAX_VALUES = 100


def to_bool(value: Any, name: str) -> bool:
    """A boolean, also from Entra ID's ``"True"`` / ``"False"`` strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidInput(f"{name} must be a boolean")


def _simple(attr: Attribute, value: Any, name: str) -> Any:
    if value is None:
        return None
    if attr.type == "boolean":
        return to_bool(value, name)
    if attr.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name} must be an integer")
        return value
    if attr.type == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{name} must be a number")
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    if len(value) > MAX_STRING:
        raise InvalidInput(f"{name} is longer than {MAX_STRING} characters")
    return value


def _complex(attr: Attribute, value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} must be an object")
    out: dict[str, Any] = {}
    for key, sub_value in value.items():
        sub = attr.child(str(key))
        if sub is None:
            continue  # unknown sub-attributes are ignored, not stored
        clean = _simple(sub, sub_value, f"{name}.{sub.name}")
        if clean is not None:
            out[sub.name] = clean
    return out


def clean_value(attr: Attribute, value: Any, name: str) -> Any:
    """One attribute's value, type-checked and with canonical sub-attribute names."""
    if value is None:
        return None
    if attr.multi_valued:
        if isinstance(value, dict):
            value = [value]  # a lone object where a list belongs: read as a list of one
        if not isinstance(value, list):
            raise InvalidInput(f"{name} must be a list")
        if len(value) > MAX_VALUES:
            raise InvalidInput(f"{name} has more than {MAX_VALUES} values")
        if attr.type == "complex":
            return [_complex(attr, item, name) for item in value]
        return [_simple(attr, item, name) for item in value]
    if attr.type == "complex":
        return _complex(attr, value, name)
    return _simple(attr, value, name)


def normalise(payload: Any, schema: ResourceSchema, *, required: tuple[str, ...]) -> dict[str, Any]:
    """A payload as stored: canonical names, checked types, read-only attributes dropped."""
    if not isinstance(payload, dict):
        raise InvalidSyntax("the request body must be a JSON object")
    schemas = payload.get("schemas")
    if not isinstance(schemas, list) or not all(isinstance(s, str) for s in schemas):
        raise InvalidSyntax(f"schemas must be a list that includes {schema.core}")
    if schema.core.lower() not in (s.lower() for s in schemas):
        raise InvalidSyntax(f"schemas must include {schema.core}")
    out: dict[str, Any] = {"schemas": [schema.core]}
    for key, value in payload.items():
        key = str(key)
        lowered = key.lower()
        if lowered in IGNORED_ON_INPUT:
            continue
        extension = schema.extension(key)
        if extension is not None:
            if value is None:
                continue
            if not isinstance(value, dict):
                raise InvalidInput(f"{extension} must be an object")
            ext_values = _extension(schema, extension, value)
            if ext_values:
                out[extension] = ext_values
                out["schemas"].append(extension)
            continue
        if ":" in key:
            urn, _, attr_name = key.rpartition(":")
            found = schema.lookup(attr_name, urn)
            if found is None or found[0] is None:
                continue
            ext, attr = found[0], found[1]
            assert ext is not None
            clean = clean_value(attr, value, key)
            if clean is not None:
                out.setdefault(ext, {})[attr.name] = clean
                if ext not in out["schemas"]:
                    out["schemas"].append(ext)
            continue
        found = schema.lookup(key)
        if found is None:
            continue  # unknown attributes are ignored (RFC 7644 §3.3 leaves this to us)
        attr = found[1]
        if attr.mutability == "readOnly":
            continue
        clean = clean_value(attr, value, attr.name)
        if clean is not None and clean != [] and clean != {}:
            out[attr.name] = clean
    # Entra ID tags its groups with MS_GROUP_SCHEMA: accepted, but not stored or echoed. It
    # names no attribute and no /Schemas document, so a client that checks ``schemas``
    # against discovery (RFC 7643 §3) could not read such a group back; Microsoft's own
    # example response lists only the core schema. Other unknown URNs are ignored the same way.
    for name in required:
        value = out.get(name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{name} is required and must be a non-empty string")
    return out


def _extension(schema: ResourceSchema, urn: str, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, sub_value in value.items():
        found = schema.lookup(str(key), urn)
        if found is None:
            continue
        attr = found[1]
        if attr.name == "manager":
            sub_value = manager_value(sub_value)
        clean = clean_value(attr, sub_value, f"{urn}:{attr.name}")
        if clean is not None and clean != {}:
            out[attr.name] = clean
    return out


def manager_value(value: Any) -> Any:
    """Entra ID sends the manager as a bare id, an object or a one-item list; store an object."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return {"value": value} if value else None
    return value


def project(
    resource: dict[str, Any],
    attributes: list[str] | None,
    excluded: list[str] | None,
    schema: ResourceSchema,
) -> dict[str, Any]:
    """Apply ``attributes`` / ``excludedAttributes`` (RFC 7644 §3.9); id and schemas stay."""
    if attributes:
        keep: dict[str, Any] = {"schemas": resource["schemas"], "id": resource["id"]}
        for path in attributes:
            _copy_path(resource, keep, path, schema)
        if "meta" in resource and any(a.lower().startswith("meta") for a in attributes):
            keep["meta"] = resource["meta"]
        return keep
    if excluded:
        out = dict(resource)
        for path in excluded:
            _drop_path(out, path, schema)
        return out
    return resource


def _resolve(path: str, schema: ResourceSchema) -> tuple[str | None, str, str | None] | None:
    urn = None
    name = path
    if ":" in path:
        urn, _, name = path.rpartition(":")
        if schema.extension(path):
            return (schema.extension(path), "", None)
    head, _, sub = name.partition(".")
    found = schema.lookup(head, urn)
    if found is None:
        return None
    ext, attr = found
    sub_attr = attr.child(sub) if sub else None
    return (ext, attr.name, sub_attr.name if sub_attr else None)


def _copy_path(src: dict[str, Any], dst: dict[str, Any], path: str, schema: ResourceSchema) -> None:
    resolved = _resolve(path, schema)
    if resolved is None:
        return
    ext, name, sub = resolved
    source = src.get(ext, {}) if ext else src
    target = dst.setdefault(ext, {}) if ext else dst
    if not name:
        if ext in src:
            dst[ext] = src[ext]
        return
    if name not in source:
        if ext and not target:
            dst.pop(ext, None)
        return
    value = source[name]
    if sub is None:
        target[name] = value
    elif isinstance(value, list):
        target[name] = [{sub: v[sub]} for v in value if isinstance(v, dict) and sub in v]
    elif isinstance(value, dict) and sub in value:
        target.setdefault(name, {})[sub] = value[sub]


def _drop_path(out: dict[str, Any], path: str, schema: ResourceSchema) -> None:
    resolved = _resolve(path, schema)
    if resolved is None:
        return
    ext, name, sub = resolved
    if name in ("id", "schemas"):
        return  # returned "always" (RFC 7643 §2.4)
    if ext and not name:
        out.pop(ext, None)
        return
    holder = out.get(ext) if ext else out
    if not isinstance(holder, dict) or name not in holder:
        return
    if ext:
        holder = dict(holder)
        out[ext] = holder
    if sub is None:
        holder.pop(name)
    elif isinstance(holder[name], dict):
        holder[name] = {k: v for k, v in holder[name].items() if k != sub}
    elif isinstance(holder[name], list):
        holder[name] = [
            {k: v for k, v in item.items() if k != sub}
            for item in holder[name]
            if isinstance(item, dict)
        ]
