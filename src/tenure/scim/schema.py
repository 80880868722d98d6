"""The attribute catalogue of the resources Tenure serves, built from scim2-models' schemas.

RFC 7643 §2.1: attribute names are case-insensitive, so every look-up goes through the
lowercased name and hands back the canonical spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import scim2_models as sm

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
# Entra ID adds this schema URN to groups it creates; accepted, never echoed (RFC 7643 §3).
MS_GROUP_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

COMMON = ("id", "externalId", "meta", "schemas")


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute definition (RFC 7643 §2.2 characteristics that Tenure acts on)."""

    name: str
    type: str
    multi_valued: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    required: bool = False
    sub: dict[str, Attribute] = field(default_factory=dict)

    def child(self, name: str) -> Attribute | None:
        return self.sub.get(name.lower())


def _attribute(raw: dict[str, Any]) -> Attribute:
    subs = {s["name"].lower(): _attribute(s) for s in raw.get("subAttributes") or []}
    return Attribute(
        name=raw["name"],
        type=raw["type"],
        multi_valued=bool(raw.get("multiValued")),
        case_exact=bool(raw.get("caseExact")),
        mutability=raw.get("mutability") or "readWrite",
        returned=raw.get("returned") or "default",
        required=bool(raw.get("required")),
        sub=subs,
    )


@dataclass(frozen=True, slots=True)
class ResourceSchema:
    """A resource's core schema plus its extensions, indexed by lowercased names."""

    core: str
    attributes: dict[str, Attribute]
    extensions: dict[str, dict[str, Attribute]]
    _urns: dict[str, str] = field(init=False, repr=False, compare=False)  # lowercased → URN

    def __post_init__(self) -> None:
        object.__setattr__(self, "_urns", {urn.lower(): urn for urn in self.extensions})

    def lookup(self, name: str, urn: str | None = None) -> tuple[str | None, Attribute] | None:
        """(extension URN or None for core, attribute) for a name, optionally URN-qualified."""
        if urn is not None and urn.lower() != self.core.lower():
            ext = self._urns.get(urn.lower())
            found = self.extensions[ext].get(name.lower()) if ext is not None else None
            return (ext, found) if ext is not None and found else None
        found = self.attributes.get(name.lower())
        return (None, found) if found else None

    def extension(self, urn: str) -> str | None:
        """The extension URN as declared, for ``urn`` in any case; None if it names none."""
        return self._urns.get(urn.lower())


_COMMON_ATTRS = {
    "id": Attribute("id", "string", case_exact=True, mutability="readOnly", returned="always"),
    "externalid": Attribute("externalId", "string", case_exact=True),
    "meta": Attribute(
        "meta",
        "complex",
        mutability="readOnly",
        sub={
            "resourcetype": Attribute("resourceType", "string", mutability="readOnly"),
            "created": Attribute("created", "dateTime", mutability="readOnly"),
            "lastmodified": Attribute("lastModified", "dateTime", mutability="readOnly"),
            "location": Attribute("location", "reference", mutability="readOnly"),
            "version": Attribute("version", "string", case_exact=True, mutability="readOnly"),
        },
    ),
}


@cache
def schema_documents() -> dict[str, dict[str, Any]]:
    """The /Schemas documents (RFC 7643 §7), generated once from scim2-models."""
    docs = {}
    for model in (sm.User, sm.EnterpriseUser, sm.Group):
        doc = model.to_schema().model_dump(mode="json", exclude_none=True)
        docs[doc["id"]] = doc
    # ``members.display`` is not in RFC 7643 §8.7.1 (value, $ref, type); scim2-models adds it as
    # readWrite. Tenure keeps member ids only, never stores a display a client sends, and so
    # publishes it as readOnly: clients know not to expect it back.
    for attribute in docs[GROUP_SCHEMA]["attributes"]:
        if attribute["name"] == "members":
            for sub in attribute.get("subAttributes", []):
                if sub["name"] == "display":
                    sub["mutability"] = "readOnly"
    return docs


@cache
def user_schema() -> ResourceSchema:
    docs = schema_documents()
    core = {a["name"].lower(): _attribute(a) for a in docs[USER_SCHEMA]["attributes"]}
    core.update(_COMMON_ATTRS)
    enterprise = {a["name"].lower(): _attribute(a) for a in docs[ENTERPRISE_SCHEMA]["attributes"]}
    return ResourceSchema(USER_SCHEMA, core, {ENTERPRISE_SCHEMA: enterprise})


@cache
def group_schema() -> ResourceSchema:
    docs = schema_documents()
    core = {a["name"].lower(): _attribute(a) for a in docs[GROUP_SCHEMA]["attributes"]}
    core.update(_COMMON_ATTRS)
    return ResourceSchema(GROUP_SCHEMA, core, {})
