"""What a SCIM filter or ``sortBy`` can name, for Users and for Groups, each as SQL.

A :class:`Catalogue` lists a resource type's filterable attributes: single-valued ones
(:class:`Scalar`, one SQL expression each: a column, or a string inside the JSON profile) and
multi-valued ones (:class:`Multi`, an EXISTS over their elements). ``scim/filter.py`` walks a
filter's syntax tree and looks every attribute up here; an attribute not listed cannot be
filtered (400 ``invalidFilter``), never ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import cast, exists, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from tenure.adapters.db.tables import group_members, groups, user_emails, users
from tenure.scim.schema import ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA

Expr = ColumnElement[Any]
Cond = ColumnElement[bool]
# Given how to read a sub-attribute of one element, the condition on that element.
ElementCond = Callable[[Callable[[str], Expr]], Cond]


@dataclass(frozen=True, slots=True)
class Scalar:
    """A single-valued attribute readable as one SQL expression."""

    expr: Callable[[str], Expr]  # dialect → expression
    type: str = "string"  # string | boolean | dateTime | integer
    case_exact: bool = False
    nullable: bool = True
    lowered: bool = False  # the column already holds the lowercased value (indexed look-ups)


@dataclass(frozen=True, slots=True)
class Multi:
    """A multi-valued attribute: a condition holds if one of its values satisfies it."""

    exists: Callable[[str, ElementCond | None], Cond]
    # sub-attribute → (type, case_exact)
    subs: dict[str, tuple[str, bool]]
    default_sub: str = "value"
    lowered: tuple[str, ...] = ()  # sub-attributes whose column holds the lowercased value


def _json(column: Any, *keys: str) -> Callable[[str], Expr]:
    def build(_dialect: str) -> Expr:
        node = column[keys] if len(keys) > 1 else column[keys[0]]
        return node.as_string()  # type: ignore[no-any-return]

    return build


def _col(column: Any) -> Callable[[str], Expr]:
    return lambda _dialect: column


def _json_array_exists(column: Any, key: str) -> Callable[[str, ElementCond | None], Cond]:
    """EXISTS over the elements of a JSON array attribute, on either database."""

    def build(dialect: str, element_cond: ElementCond | None) -> Cond:
        if dialect == "postgresql":
            empty = cast(literal("[]"), column.type)
            elements = func.jsonb_array_elements(func.coalesce(column[key], empty))
            table = elements.table_valued("value").alias("el")

            def field(sub: str) -> Expr:
                return table.c.value.op("->>")(sub)
        else:
            table = func.json_each(column, f"$.{key}").table_valued("value").alias("el")

            def field(sub: str) -> Expr:
                return func.json_extract(table.c.value, f"$.{sub}")

        inner = select(literal(1)).select_from(table)
        if element_cond is not None:
            inner = inner.where(element_cond(field))
        return exists(inner)

    return build


_USER_JSON_STRINGS = {
    "name.formatted": ("name", "formatted"),
    "name.familyname": ("name", "familyName"),
    "name.givenname": ("name", "givenName"),
    "name.middlename": ("name", "middleName"),
    "name.honorificprefix": ("name", "honorificPrefix"),
    "name.honorificsuffix": ("name", "honorificSuffix"),
    "nickname": ("nickName",),
    "profileurl": ("profileUrl",),
    "title": ("title",),
    "usertype": ("userType",),
    "preferredlanguage": ("preferredLanguage",),
    "locale": ("locale",),
    "timezone": ("timezone",),
}
_ENTERPRISE_STRINGS = ("employeeNumber", "costCenter", "organization", "division", "department")


def _user_scalars() -> dict[str, Scalar]:
    scalars = {
        "id": Scalar(_col(users.c.id), case_exact=True, nullable=False),
        "username": Scalar(_col(users.c.user_name_ci), nullable=False, lowered=True),
        "externalid": Scalar(_col(users.c.external_id), case_exact=True),
        "displayname": Scalar(_col(users.c.display_name)),
        "active": Scalar(_col(users.c.active), type="boolean", nullable=False),
        "meta.created": Scalar(_col(users.c.created_at), type="dateTime", nullable=False),
        "meta.lastmodified": Scalar(_col(users.c.updated_at), type="dateTime", nullable=False),
        "meta.resourcetype": Scalar(lambda _d: literal("User"), case_exact=True, nullable=False),
    }
    for name, keys in _USER_JSON_STRINGS.items():
        scalars[name] = Scalar(_json(users.c.data, *keys))
    for attr in _ENTERPRISE_STRINGS:
        scalars[f"{ENTERPRISE_SCHEMA.lower()}:{attr.lower()}"] = Scalar(
            _json(users.c.data, ENTERPRISE_SCHEMA, attr)
        )
    scalars[f"{ENTERPRISE_SCHEMA.lower()}:manager.value"] = Scalar(
        _json(users.c.data, ENTERPRISE_SCHEMA, "manager", "value"), case_exact=True
    )
    scalars[f"{ENTERPRISE_SCHEMA.lower()}:manager"] = scalars[
        f"{ENTERPRISE_SCHEMA.lower()}:manager.value"
    ]
    return scalars


def _emails_exists(_dialect: str, element_cond: ElementCond | None) -> Cond:
    columns = {
        "value": user_emails.c.value_ci,
        "type": user_emails.c.type,
        "primary": user_emails.c.is_primary,
    }
    inner = select(literal(1)).where(user_emails.c.user_id == users.c.id).correlate(users)
    if element_cond is not None:
        inner = inner.where(element_cond(lambda sub: columns[sub]))
    return exists(inner)


_MULTI_SUBS_STD = {
    "value": ("string", False),
    "type": ("string", False),
    "primary": ("boolean", False),
    "display": ("string", False),
}


_EMAILS = Multi(
    _emails_exists,
    {"value": ("string", False), "type": ("string", False), "primary": ("boolean", False)},
    lowered=("value",),
)


def _user_multis() -> dict[str, Multi]:
    multis = {"emails": _EMAILS}
    for attr in ("phoneNumbers", "ims", "photos", "entitlements", "roles", "x509Certificates"):
        multis[attr.lower()] = Multi(_json_array_exists(users.c.data, attr), dict(_MULTI_SUBS_STD))
    multis["addresses"] = Multi(
        _json_array_exists(users.c.data, "addresses"),
        {
            k.lower(): ("string", False)
            for k in (
                "formatted",
                "streetAddress",
                "locality",
                "region",
                "postalCode",
                "country",
                "type",
            )
        }
        | {"primary": ("boolean", False)},
        default_sub="formatted",
    )
    return multis


def _members_exists(_dialect: str, element_cond: ElementCond | None) -> Cond:
    columns = {"value": group_members.c.user_id, "type": literal("User")}
    inner = select(literal(1)).where(group_members.c.group_id == groups.c.id).correlate(groups)
    if element_cond is not None:
        inner = inner.where(element_cond(lambda sub: columns[sub]))
    return exists(inner)


def _group_scalars() -> dict[str, Scalar]:
    return {
        "id": Scalar(_col(groups.c.id), case_exact=True, nullable=False),
        "displayname": Scalar(_col(groups.c.display_name_ci), nullable=False, lowered=True),
        "externalid": Scalar(_col(groups.c.external_id), case_exact=True),
        "meta.created": Scalar(_col(groups.c.created_at), type="dateTime", nullable=False),
        "meta.lastmodified": Scalar(_col(groups.c.updated_at), type="dateTime", nullable=False),
        "meta.resourcetype": Scalar(lambda _d: literal("Group"), case_exact=True, nullable=False),
    }


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What can be filtered and sorted on for one resource type."""

    core: str
    scalars: dict[str, Scalar]
    multis: dict[str, Multi]
    default_order: tuple[Any, ...]
    extensions: tuple[str, ...] = ()


USERS = Catalogue(
    USER_SCHEMA,
    _user_scalars(),
    _user_multis(),
    (users.c.created_at, users.c.id),
    (ENTERPRISE_SCHEMA,),
)
GROUPS = Catalogue(
    GROUP_SCHEMA,
    _group_scalars(),
    {"members": Multi(_members_exists, {"value": ("string", True), "type": ("string", True)})},
    (groups.c.created_at, groups.c.id),
)
