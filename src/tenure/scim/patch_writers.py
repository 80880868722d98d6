"""The writers of the SCIM PATCH engine (RFC 7644 §3.5.2.1-§3.5.2.3).

Each applies one resolved operation (a :class:`Target` and its value) to an attribute's
container, the resource or an extension's dict: a singular attribute, a sub-attribute, a whole
multi-valued attribute, the entries a value filter selects (with the Entra ID create rule of
``tenure.scim.patch_values``), and the enterprise ``manager``. Values are coerced and filters
evaluated by ``tenure.scim.patch_values``; writes always use the canonical spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scim2_models.path import FilterNode

from tenure.domain.errors import InvalidInput, NoTarget
from tenure.scim.patch_values import (
    coerce_complex,
    coerce_entries,
    coerce_simple,
    covers,
    creatable_defaults,
    describe,
    fingerprint,
    get_ci,
    matches,
    pop_ci,
    set_ci,
    settle_primary,
    short,
)
from tenure.scim.schema import Attribute


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved attribute path: ``[urn:]attr[.sub]`` or ``attr[filter][.sub]``."""

    text: str
    ext: str | None  # extension URN holding the attribute, None for the core schema
    attr: Attribute
    sub: Attribute | None = None
    filter: FilterNode | None = None


def _clears(op: str, value: Any) -> bool:
    """remove, or add/replace with null (RFC 7643 §2.5: null is the same as unassigned)."""
    return op == "remove" or value is None


def write_single(op: str, container: dict[str, Any], t: Target, value: Any) -> None:
    """A singular attribute. A complex value is merged (§3.5.2.1, and §3.5.2.3: "Sub-attributes
    that are not specified in the value parameter are left unchanged")."""
    name = t.attr.name
    if _clears(op, value):
        pop_ci(container, name)
    elif t.attr.type == "complex":
        current = get_ci(container, name)
        merged = dict(current) if isinstance(current, dict) else {}
        for key, item in coerce_complex(t.attr, value, short(t.text)).items():
            if item is None:
                pop_ci(merged, key)
            else:
                set_ci(merged, key, item)
        if merged:
            set_ci(container, name, merged)
        else:
            pop_ci(container, name)
    else:
        set_ci(container, name, coerce_simple(t.attr, value, short(t.text)))


def write_sub_attribute(op: str, container: dict[str, Any], t: Target, value: Any) -> None:
    """``name.givenName``: one sub-attribute of a singular complex attribute."""
    assert t.sub is not None
    current = get_ci(container, t.attr.name)
    obj = dict(current) if isinstance(current, dict) else {}
    if _clears(op, value):
        pop_ci(obj, t.sub.name)
    else:
        set_ci(obj, t.sub.name, coerce_simple(t.sub, value, short(t.text)))
    if obj:
        set_ci(container, t.attr.name, obj)
    else:
        pop_ci(container, t.attr.name)


def _current_entries(container: dict[str, Any], attr: Attribute) -> list[Any]:
    current = get_ci(container, attr.name)
    if isinstance(current, dict):
        current = [current]
    if not isinstance(current, list):
        return []
    return [dict(e) if isinstance(e, dict) else e for e in current]


def _store_entries(container: dict[str, Any], attr: Attribute, entries: list[Any]) -> None:
    if entries:
        set_ci(container, attr.name, entries)
    else:
        pop_ci(container, attr.name)


def write_multi(op: str, container: dict[str, Any], t: Target, value: Any) -> None:
    """A whole multi-valued attribute such as ``emails``.

    add appends the entries not already present (§3.5.2.1); replace swaps the whole list
    (§3.5.2.3); remove drops it, or with a value only the entries that value describes (the
    form Entra ID uses for members). add of null or [] adds nothing.
    """
    where = short(t.text)
    if op == "remove" and value is not None:
        given = coerce_entries(t.attr, value, where)
        kept = [e for e in _current_entries(container, t.attr) if not _any_covers(t, given, e)]
        _store_entries(container, t.attr, kept)
    elif op == "remove" or (op == "replace" and value is None):
        pop_ci(container, t.attr.name)
    elif value is not None:
        given = coerce_entries(t.attr, value, where)
        if op == "replace":
            entries, written = given, given
        else:
            entries, written = _current_entries(container, t.attr), []
            seen = {fingerprint(e) for e in entries}
            for entry in given:
                if fingerprint(entry) not in seen:
                    entries.append(entry)
                    written.append(entry)
        settle_primary(t.attr, entries, written)
        _store_entries(container, t.attr, entries)


def _any_covers(t: Target, given: list[Any], entry: Any) -> bool:
    return any(covers(t.attr, g, entry) for g in given)


def write_entries(op: str, container: dict[str, Any], t: Target, value: Any) -> None:
    """``emails[type eq "work"].value``, ``emails[type eq "work"]`` or ``emails.value``.

    Without a filter every entry is selected. remove drops the selected entries (or their
    sub-attribute); no match is a no-op, so a repeated remove stays idempotent. add/replace
    write into every selected entry (a whole entry is merged, like any complex value). When
    nothing matches, the Entra ID rule applies: a filter of ``eq`` comparisons describes the
    entry to create, which must then match it with the values written; any other filter, or
    values that contradict it, is ``noTarget`` (§3.5.2.3).
    """
    entries = _current_entries(container, t.attr)
    selected = [e for e in entries if isinstance(e, dict)]
    if t.filter is not None:
        selected = [e for e in selected if matches(t.filter, e, t.attr)]
    chosen = {id(e) for e in selected}
    if _clears(op, value):
        if t.sub is None:
            entries = [e for e in entries if id(e) not in chosen]
        else:
            for entry in selected:
                pop_ci(entry, t.sub.name)
            entries = [e for e in entries if id(e) not in chosen or e]
        _store_entries(container, t.attr, entries)
        return
    if t.sub is not None:
        fields = {t.sub.name: coerce_simple(t.sub, value, short(t.text))}
    else:
        fields = coerce_complex(t.attr, value, short(t.text))
    if not selected:
        defaults = {} if t.filter is None else creatable_defaults(t.filter, t.attr, t.text)
        if defaults is None:
            raise NoTarget(f"{short(t.text)} matches no value, and there is none to create.")
        created = {**defaults, **{k: v for k, v in fields.items() if v is not None}}
        if t.filter is not None and not matches(t.filter, created, t.attr):
            # ``emails[value eq "a"].value`` set to "b": the entry would contradict its filter.
            raise NoTarget(f"{short(t.text)} matches no value, and the value given contradicts it.")
        if created:
            entries.append(created)
            selected = [created]
    for entry in selected:
        for key, item in fields.items():
            if item is None:
                pop_ci(entry, key)
            else:
                set_ci(entry, key, item)
    settle_primary(t.attr, entries, selected)
    _store_entries(container, t.attr, [e for e in entries if e != {}])


def write_manager(op: str, container: dict[str, Any], t: Target, value: Any) -> None:
    """The enterprise ``manager``, always stored as ``{"value": id}``.

    Entra ID sends a bare id, ``{"value": id}``, or a one-element list, and clears the
    manager with ``""`` or null. ``manager.$ref`` is accepted and dropped, like
    ``displayName`` inside a value (read-only, computed by the server).
    """
    if t.sub is not None and t.sub.name != "value":
        return
    manager_id = None if op == "remove" else _manager_id(value, short(t.text))
    if manager_id is None:
        pop_ci(container, t.attr.name)
    else:
        set_ci(container, t.attr.name, {"value": manager_id})


def _manager_id(value: Any, where: str) -> str | None:
    if isinstance(value, list):
        if len(value) > 1:
            raise InvalidInput(f"{where} is single-valued, got {len(value)} values.")
        value = value[0] if value else None
    if isinstance(value, dict):
        value = get_ci(value, "value")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a user id string, not {describe(value)}.")
    return value
