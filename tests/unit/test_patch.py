"""The SCIM PATCH engine (RFC 7644 §3.5.2) and the Entra ID / Okta dialects it accepts."""

from __future__ import annotations

import contextlib
import copy
import json
import random
from typing import Any

import pytest

from tenure.domain.errors import (
    InvalidFilter,
    InvalidInput,
    InvalidPath,
    InvalidSyntax,
    Mutability,
    NoTarget,
    TenureError,
)
from tenure.scim.patch import GroupPatch, MemberChange, apply_patch, plan_group_patch
from tenure.scim.schema import (
    ENTERPRISE_SCHEMA,
    GROUP_SCHEMA,
    MS_GROUP_SCHEMA,
    USER_SCHEMA,
    group_schema,
    user_schema,
)

ENT = ENTERPRISE_SCHEMA


def user(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "id": "u1",
        "userName": "ann@example.com",
        "name": {"givenName": "Ann", "familyName": "Lee"},
        "displayName": "Ann Lee",
        "active": True,
        "emails": [{"value": "ann@example.com", "type": "work", "primary": True}],
        "meta": {"resourceType": "User", "version": 'W/"1"'},
    }
    base.update(extra)
    return base


def group(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": "g1",
        "displayName": "Board",
        "meta": {"resourceType": "Group"},
    }
    base.update(extra)
    return base


def patch_user(resource: dict[str, Any], *ops: dict[str, Any]) -> dict[str, Any]:
    return apply_patch(resource, list(ops), user_schema())


def plan(*ops: dict[str, Any], resource: dict[str, Any] | None = None) -> GroupPatch:
    return plan_group_patch(resource if resource is not None else group(), list(ops))


# --- 1. ops, in any case --------------------------------------------------------------------


@pytest.mark.parametrize("op", ["add", "Add", "ADD", "replace", "Replace", "REPLACE"])
def test_add_and_replace_are_accepted_in_any_case(op: str) -> None:
    out = patch_user(user(), {"op": op, "path": "displayName", "value": "Ann L."})
    assert out["displayName"] == "Ann L."


@pytest.mark.parametrize("op", ["remove", "Remove", "REMOVE"])
def test_remove_is_accepted_in_any_case(op: str) -> None:
    out = patch_user(user(), {"op": op, "path": "displayName"})
    assert "displayName" not in out


def test_op_member_names_are_read_case_insensitively() -> None:
    out = patch_user(user(), {"Op": "Replace", "Path": "title", "Value": "Chair"})
    assert out["title"] == "Chair"


def test_unknown_op_is_invalid_syntax() -> None:
    with pytest.raises(InvalidSyntax):
        patch_user(user(), {"op": "move", "path": "title", "value": "x"})


@pytest.mark.parametrize("op", [None, 1, ["add"], {"x": 1}, ""])
def test_missing_or_non_string_op_is_invalid_syntax(op: Any) -> None:
    raw: dict[str, Any] = {"path": "title", "value": "x"}
    if op is not None:
        raw["op"] = op
    with pytest.raises(InvalidSyntax):
        patch_user(user(), raw)


@pytest.mark.parametrize("operations", [None, {}, "add", 3, {"op": "add"}])
def test_operations_that_are_not_a_list_are_invalid_syntax(operations: Any) -> None:
    with pytest.raises(InvalidSyntax):
        apply_patch(user(), operations, user_schema())


@pytest.mark.parametrize("operation", [None, "add", 1, ["op", "add"], True])
def test_an_operation_that_is_not_an_object_is_invalid_syntax(operation: Any) -> None:
    with pytest.raises(InvalidSyntax):
        apply_patch(user(), [operation], user_schema())


@pytest.mark.parametrize("op", ["add", "replace"])
def test_add_or_replace_without_value_is_invalid_syntax(op: str) -> None:
    with pytest.raises(InvalidSyntax):
        patch_user(user(), {"op": op, "path": "title"})


def test_pathless_add_with_null_value_is_invalid_syntax() -> None:
    with pytest.raises(InvalidSyntax):
        patch_user(user(), {"op": "add", "value": None})


def test_pathless_add_with_a_non_object_value_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        patch_user(user(), {"op": "add", "value": ["title", "x"]})


def test_remove_without_path_is_no_target() -> None:
    with pytest.raises(NoTarget):
        patch_user(user(), {"op": "remove", "value": {"title": "x"}})


@pytest.mark.parametrize(
    "op",
    [
        {"op": "remove", "path": "userName"},
        {"op": "Remove", "path": "USERNAME"},
        {"op": "replace", "path": "userName", "value": None},
        {"op": "replace", "value": {"userName": None}},
    ],
)
def test_removing_a_required_attribute_is_a_mutability_error(op: dict[str, Any]) -> None:
    with pytest.raises(Mutability):
        patch_user(user(), op)


def test_removing_a_groups_display_name_is_a_mutability_error() -> None:
    with pytest.raises(Mutability):
        plan({"op": "remove", "path": "displayName"})


def test_a_non_string_path_is_invalid_path() -> None:
    with pytest.raises(InvalidPath):
        patch_user(user(), {"op": "add", "path": 5, "value": "x"})


def test_operations_apply_in_request_order() -> None:
    out = patch_user(
        user(),
        {"op": "replace", "path": "title", "value": "First"},
        {"op": "remove", "path": "title"},
        {"op": "add", "path": "title", "value": "Last"},
    )
    assert out["title"] == "Last"


# --- 2. booleans sent as strings ------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"), [("False", False), ("True", True), ("true", True), ("FALSE", False)]
)
def test_entra_string_booleans_for_active_become_bools(sent: str, stored: bool) -> None:
    out = patch_user(user(), {"op": "Replace", "path": "active", "value": sent})
    assert out["active"] is stored


def test_string_boolean_for_email_primary_becomes_a_bool() -> None:
    out = patch_user(
        user(emails=[]),
        {"op": "Add", "path": 'emails[type eq "work"].primary', "value": "True"},
    )
    assert out["emails"] == [{"type": "work", "primary": True}]


@pytest.mark.parametrize("value", ["yes", 1, 0, [], {}, "truth"])
def test_a_non_boolean_for_active_is_invalid_input(value: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        patch_user(user(), {"op": "replace", "path": "active", "value": value})
    assert caught.value.effective_scim_type == "invalidValue"


def test_string_booleans_inside_a_pathless_value_become_bools() -> None:
    out = patch_user(user(), {"op": "replace", "value": {"active": "False"}})
    assert out["active"] is False


# --- 3. path-less add / replace -------------------------------------------------------------


def test_okta_pathless_replace_of_active_false_deactivates() -> None:
    out = patch_user(user(), {"op": "replace", "value": {"active": False}})
    assert out["active"] is False


def test_pathless_keys_are_attributes_with_canonical_spelling() -> None:
    out = patch_user(user(), {"op": "replace", "value": {"DISPLAYNAME": "A", "nickname": "N"}})
    assert out["displayName"] == "A"
    assert out["nickName"] == "N"
    assert "DISPLAYNAME" not in out and "nickname" not in out


def test_pathless_dotted_key_sets_a_sub_attribute() -> None:
    out = patch_user(user(), {"op": "Replace", "value": {"name.givenName": "Anna"}})
    assert out["name"] == {"givenName": "Anna", "familyName": "Lee"}


def test_pathless_urn_qualified_key_sets_an_enterprise_attribute() -> None:
    out = patch_user(user(), {"op": "Add", "value": {f"{ENT}:department": "Finance"}})
    assert out[ENT] == {"department": "Finance"}
    assert out["schemas"] == [USER_SCHEMA, ENT]


def test_pathless_extension_urn_key_with_an_object_is_merged() -> None:
    start = user(**{ENT: {"department": "Finance", "costCenter": "42"}})
    start["schemas"] = [USER_SCHEMA, ENT]
    out = patch_user(
        start, {"op": "replace", "value": {ENT: {"department": "Legal", "division": "EU"}}}
    )
    assert out[ENT] == {"department": "Legal", "costCenter": "42", "division": "EU"}
    assert out["schemas"] == [USER_SCHEMA, ENT]


def test_pathless_core_urn_qualified_key_is_accepted() -> None:
    out = patch_user(user(), {"op": "replace", "value": {f"{USER_SCHEMA}:title": "Chair"}})
    assert out["title"] == "Chair"


def test_pathless_replace_of_a_complex_attribute_replaces_only_given_sub_attributes() -> None:
    out = patch_user(user(), {"op": "replace", "value": {"name": {"familyName": "Smith"}}})
    assert out["name"] == {"givenName": "Ann", "familyName": "Smith"}


def test_pathless_add_of_a_complex_attribute_merges() -> None:
    out = patch_user(user(), {"op": "add", "value": {"name": {"middleName": "B"}}})
    assert out["name"] == {"givenName": "Ann", "familyName": "Lee", "middleName": "B"}


def test_pathless_null_sub_attribute_in_a_complex_value_removes_it() -> None:
    out = patch_user(user(), {"op": "replace", "value": {"name": {"familyName": None}}})
    assert out["name"] == {"givenName": "Ann"}


def test_pathless_replace_of_a_multi_valued_attribute_replaces_the_list() -> None:
    new = [{"value": "ann@new.example", "type": "home"}]
    out = patch_user(user(), {"op": "replace", "value": {"emails": new}})
    assert out["emails"] == new


def test_pathless_unknown_attribute_is_invalid_path() -> None:
    with pytest.raises(InvalidPath):
        patch_user(user(), {"op": "add", "value": {"favouriteColour": "blue"}})


def test_pathless_value_with_an_unknown_extension_attribute_is_invalid_path() -> None:
    with pytest.raises(InvalidPath):
        patch_user(user(), {"op": "add", "value": {ENT: {"shoeSize": "42"}}})


def test_extension_urn_value_that_is_not_an_object_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        patch_user(user(), {"op": "add", "value": {ENT: "Finance"}})


def test_empty_pathless_object_changes_nothing() -> None:
    assert patch_user(user(), {"op": "replace", "value": {}}) == user()


# --- 4. paths -------------------------------------------------------------------------------


def test_replace_display_name_by_path() -> None:
    assert (
        patch_user(user(), {"op": "replace", "path": "displayName", "value": "X"})["displayName"]
        == "X"
    )


def test_path_names_are_case_insensitive_and_stored_canonically() -> None:
    out = patch_user(user(), {"op": "replace", "path": "NAME.GIVENNAME", "value": "Anna"})
    assert out["name"]["givenName"] == "Anna"
    assert set(out["name"]) == {"givenName", "familyName"}


def test_add_name_given_name_when_name_is_absent_creates_name() -> None:
    start = user()
    del start["name"]
    out = patch_user(start, {"op": "add", "path": "name.givenName", "value": "Ann"})
    assert out["name"] == {"givenName": "Ann"}


def test_replace_of_a_complex_attribute_by_path_merges_sub_attributes() -> None:
    out = patch_user(user(), {"op": "replace", "path": "name", "value": {"givenName": "Jo"}})
    assert out["name"] == {"givenName": "Jo", "familyName": "Lee"}


def test_add_to_emails_appends_entries_not_already_present() -> None:
    out = patch_user(
        user(),
        {
            "op": "add",
            "path": "emails",
            "value": [
                {"value": "ann@example.com", "type": "work", "primary": True},
                {"value": "ann@home.example", "type": "home"},
                {"value": "ann@home.example", "type": "home"},
            ],
        },
    )
    assert out["emails"] == [
        {"value": "ann@example.com", "type": "work", "primary": True},
        {"value": "ann@home.example", "type": "home"},
    ]


def test_add_to_emails_accepts_a_single_object() -> None:
    out = patch_user(user(emails=[]), {"op": "add", "path": "emails", "value": {"value": "a@b"}})
    assert out["emails"] == [{"value": "a@b"}]


def test_replace_emails_replaces_the_whole_list() -> None:
    out = patch_user(
        user(), {"op": "replace", "path": "emails", "value": [{"value": "x@y", "type": "other"}]}
    )
    assert out["emails"] == [{"value": "x@y", "type": "other"}]


def test_replace_emails_with_an_empty_list_removes_them() -> None:
    out = patch_user(user(), {"op": "replace", "path": "emails", "value": []})
    assert "emails" not in out


def test_a_new_primary_email_takes_primary_from_the_others() -> None:
    out = patch_user(
        user(),
        {"op": "add", "path": "emails", "value": [{"value": "n@x", "primary": "true"}]},
    )
    assert out["emails"] == [
        {"value": "ann@example.com", "type": "work", "primary": False},
        {"value": "n@x", "primary": True},
    ]


def test_replace_filtered_email_value() -> None:
    out = patch_user(
        user(), {"op": "replace", "path": 'emails[type eq "work"].value', "value": "a@new"}
    )
    assert out["emails"] == [{"value": "a@new", "type": "work", "primary": True}]


def test_filter_string_comparison_is_case_insensitive() -> None:
    out = patch_user(
        user(), {"op": "replace", "path": 'emails[TYPE eq "WORK"].value', "value": "a@new"}
    )
    assert out["emails"][0]["value"] == "a@new"
    assert len(out["emails"]) == 1


def test_filtered_replace_only_touches_matching_entries() -> None:
    start = user(
        emails=[
            {"value": "w@x", "type": "work"},
            {"value": "h@x", "type": "home"},
        ]
    )
    out = patch_user(start, {"op": "replace", "path": 'emails[type eq "home"].value', "value": "n"})
    assert out["emails"] == [{"value": "w@x", "type": "work"}, {"value": "n", "type": "home"}]


def test_attr_exp_path_form_selects_like_a_value_filter() -> None:
    start = user(emails=[{"value": "w@x", "type": "work"}, {"value": "h@x", "type": "home"}])
    out = patch_user(start, {"op": "remove", "path": 'emails.type eq "home"'})
    assert out["emails"] == [{"value": "w@x", "type": "work"}]


def test_filtered_path_without_sub_attribute_merges_into_matching_entries() -> None:
    out = patch_user(
        user(),
        {"op": "replace", "path": 'emails[type eq "work"]', "value": {"display": "Work"}},
    )
    assert out["emails"] == [
        {"value": "ann@example.com", "type": "work", "primary": True, "display": "Work"}
    ]


def test_replace_filtered_address_formatted() -> None:
    start = user(addresses=[{"type": "work", "formatted": "Old St 1"}])
    out = patch_user(
        start,
        {"op": "replace", "path": 'addresses[type eq "work"].formatted', "value": "New St 2"},
    )
    assert out["addresses"] == [{"type": "work", "formatted": "New St 2"}]


def test_add_filtered_mobile_phone_number() -> None:
    out = patch_user(
        user(), {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 555"}
    )
    assert out["phoneNumbers"] == [{"type": "mobile", "value": "+1 555"}]


def test_enterprise_department_by_urn_path() -> None:
    out = patch_user(user(), {"op": "Add", "path": f"{ENT}:department", "value": "Finance"})
    assert out[ENT] == {"department": "Finance"}
    assert out["schemas"] == [USER_SCHEMA, ENT]


def test_enterprise_urn_is_added_to_schemas_only_once() -> None:
    start = user(**{ENT: {"division": "EU"}})
    start["schemas"] = [USER_SCHEMA, ENT.lower()]
    out = patch_user(start, {"op": "Add", "path": f"{ENT}:department", "value": "Finance"})
    assert out["schemas"] == [USER_SCHEMA, ENT.lower()]


def test_extension_urn_is_added_when_the_resource_had_no_schemas() -> None:
    start = user()
    del start["schemas"]
    out = patch_user(start, {"op": "Add", "path": f"{ENT}:department", "value": "Finance"})
    assert out["schemas"] == [USER_SCHEMA, ENT]


def test_extension_urn_as_path_with_an_object_merges() -> None:
    start = user(**{ENT: {"costCenter": "7"}})
    out = patch_user(start, {"op": "add", "path": ENT, "value": {"department": "Ops"}})
    assert out[ENT] == {"costCenter": "7", "department": "Ops"}


def test_removing_the_last_extension_attribute_drops_the_extension_but_keeps_schemas() -> None:
    start = user(**{ENT: {"department": "Ops"}})
    start["schemas"] = [USER_SCHEMA, ENT]
    out = patch_user(start, {"op": "remove", "path": f"{ENT}:department"})
    assert ENT not in out
    assert out["schemas"] == [USER_SCHEMA, ENT]


def test_remove_of_the_extension_urn_drops_the_extension() -> None:
    start = user(**{ENT: {"department": "Ops", "manager": {"value": "m"}}})
    out = patch_user(start, {"op": "remove", "path": ENT})
    assert ENT not in out


def test_schemas_path_is_left_alone() -> None:
    out = patch_user(user(), {"op": "add", "path": "schemas", "value": ["urn:x"]})
    assert out["schemas"] == [USER_SCHEMA]


@pytest.mark.parametrize(
    "path",
    [
        "emails[type eq",
        "a.b.c",
        'emails[type eq "work"][x eq 1]',
        "emails[]",
        "]",
        "x" * 5000,
        'emails[type eq "work"].value.x',
    ],
)
def test_unparseable_paths_are_invalid_path(path: str) -> None:
    with pytest.raises(InvalidPath) as caught:
        patch_user(user(), {"op": "replace", "path": path, "value": "x"})
    assert len(caught.value.detail) < 300


@pytest.mark.parametrize(
    "path",
    [
        "favouriteColour",
        "name.nickname",
        "displayName.first",
        "active.value",
        "urn:example:unknown:2.0:User:department",
        f"{ENT}:shoeSize",
        "department",
        'emails[colour eq "red"].value',
        'emails[type eq "work"].colour',
        'name[givenName eq "Ann"]',
        "emails.value.type",
    ],
)
def test_unknown_attributes_and_sub_attributes_are_invalid_path(path: str) -> None:
    with pytest.raises(InvalidPath):
        patch_user(user(), {"op": "replace", "path": path, "value": "x"})


def test_a_value_with_an_unknown_sub_attribute_is_invalid_path() -> None:
    with pytest.raises(InvalidPath):
        patch_user(user(), {"op": "add", "path": "emails", "value": [{"value": "a", "x": 1}]})


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("name", "Ann Lee"),
        ("displayName", 42),
        ("displayName", ["x"]),
        ("displayName", {"value": "x"}),
        ("emails", "a@b"),
        ("emails", [["a@b"]]),
        ('emails[type eq "work"].value', 5),
        ('emails[type eq "work"]', "a@b"),
        ("name.givenName", {"x": 1}),
        (f"{ENT}:department", True),
    ],
)
def test_values_of_the_wrong_type_are_invalid_input(path: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        patch_user(user(), {"op": "replace", "path": path, "value": value})
    assert caught.value.effective_scim_type == "invalidValue"


# --- value filters --------------------------------------------------------------------------


EMAILS: list[dict[str, Any]] = [
    {"value": "ann@work.example", "type": "work", "primary": True},
    {"value": "ann@home.example", "type": "home"},
    {"value": "Ann@Other.example", "type": "other", "primary": False},
]


@pytest.mark.parametrize(
    ("filt", "removed"),
    [
        ('type eq "work"', ["work"]),
        ('type ne "work"', ["home", "other"]),
        ('value co "HOME"', ["home"]),
        ('value sw "ann@o"', ["other"]),
        ('value ew ".EXAMPLE"', ["work", "home", "other"]),
        ("primary pr", ["work", "other"]),
        ("primary eq true", ["work"]),
        ("primary eq false", ["other"]),
        ('primary eq "true"', ["work"]),
        ('type gt "other"', ["work"]),
        ('type ge "other"', ["work", "other"]),
        ('type lt "other"', ["home"]),
        ('type le "home"', ["home"]),
        ('type eq "work" or type eq "home"', ["work", "home"]),
        ('type eq "work" and primary eq true', ["work"]),
        ('not (type eq "work")', ["home", "other"]),
        ('type eq "home" and not (primary pr)', ["home"]),
        ("primary gt true", []),
        ("type eq 1", []),
        ("primary eq 1", []),
    ],
)
def test_value_filters_select_the_expected_entries(filt: str, removed: list[str]) -> None:
    out = patch_user(
        user(emails=copy.deepcopy(EMAILS)), {"op": "remove", "path": f"emails[{filt}]"}
    )
    left = [e["type"] for e in out.get("emails", [])]
    assert left == [e["type"] for e in EMAILS if e["type"] not in removed]


def test_case_exact_sub_attributes_compare_exactly() -> None:
    start = user(**{"x509Certificates": [{"value": "QUJD"}, {"value": "abcd"}]})
    out = patch_user(start, {"op": "remove", "path": 'x509Certificates[value eq "ABCD"]'})
    assert out["x509Certificates"] == [{"value": "QUJD"}, {"value": "abcd"}]


def test_a_nested_value_filter_is_invalid_path() -> None:
    with pytest.raises(InvalidPath):
        patch_user(user(), {"op": "remove", "path": 'emails[type eq "a" and x[y eq "b"]]'})


# --- 5. the Entra create rule ---------------------------------------------------------------


def test_entra_filtered_email_path_creates_missing_work_email() -> None:
    out = patch_user(
        user(emails=[{"value": "h@x", "type": "home"}]),
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "w@x"},
    )
    assert out["emails"] == [{"value": "h@x", "type": "home"}, {"type": "work", "value": "w@x"}]


def test_entra_filtered_replace_creates_missing_entry_too() -> None:
    start = user()
    del start["emails"]
    out = patch_user(
        start, {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "w@x"}
    )
    assert out["emails"] == [{"type": "work", "value": "w@x"}]


def test_entra_create_rule_accepts_an_and_of_eq_comparisons() -> None:
    out = patch_user(
        user(emails=[]),
        {
            "op": "replace",
            "path": 'emails[type eq "work" and primary eq true].value',
            "value": "w@x",
        },
    )
    assert out["emails"] == [{"type": "work", "primary": True, "value": "w@x"}]


def test_entra_create_rule_for_a_whole_entry_uses_the_filter_and_the_value() -> None:
    out = patch_user(
        user(emails=[]),
        {"op": "add", "path": 'emails[type eq "home"]', "value": {"value": "h@x"}},
    )
    assert out["emails"] == [{"type": "home", "value": "h@x"}]


@pytest.mark.parametrize(
    "filt",
    [
        'type ne "other"',
        'type co "work"',
        'type eq "work" or type eq "home"',
        "display pr",
        'not (type eq "other")',
        "type eq null",
        'type eq "work" and type eq "home"',
    ],
)
def test_replace_on_a_filter_that_matches_nothing_and_cannot_create_is_no_target(
    filt: str,
) -> None:
    start = user(emails=[{"value": "o@x", "type": "other"}])
    with pytest.raises(NoTarget):
        patch_user(start, {"op": "replace", "path": f"emails[{filt}].value", "value": "w@x"})


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ('emails[value eq "nope@x"].value', "w@x"),
        ('emails[type eq "work" and value eq "nope@x"].value', "w@x"),
        ('x509Certificates[value eq "YQ=="].value', "Yg=="),
        ('emails[type eq "work"]', {"value": "w@x", "type": "home"}),
    ],
)
def test_an_entry_the_written_value_would_keep_from_matching_its_filter_is_no_target(
    path: str, value: Any
) -> None:
    start = user(emails=[{"value": "o@x", "type": "other"}])
    for op in ("add", "replace"):
        with pytest.raises(NoTarget):
            patch_user(start, {"op": op, "path": path, "value": value})


def test_an_entry_that_matches_its_filter_with_the_written_value_is_created() -> None:
    out = patch_user(
        user(emails=[]),
        {"op": "replace", "path": 'emails[value eq "n@x"].type', "value": "home"},
    )
    assert out["emails"] == [{"value": "n@x", "type": "home"}]


def test_a_new_primary_entry_created_by_the_entra_rule_demotes_the_old_primary() -> None:
    out = patch_user(
        user(),
        {"op": "add", "path": 'emails[type eq "home" and primary eq true].value', "value": "h"},
    )
    assert out["emails"] == [
        {"value": "ann@example.com", "type": "work", "primary": False},
        {"type": "home", "primary": True, "value": "h"},
    ]


# --- 6. manager -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["abc", {"value": "abc"}, [{"value": "abc"}], {"value": "abc", "displayName": "B"}]
)
def test_manager_is_always_stored_as_an_object_with_value(value: Any) -> None:
    out = patch_user(user(), {"op": "Replace", "path": f"{ENT}:manager", "value": value})
    assert out[ENT] == {"manager": {"value": "abc"}}
    assert ENT in out["schemas"]


def test_manager_value_sub_path_sets_the_manager() -> None:
    out = patch_user(user(), {"op": "add", "path": f"{ENT}:manager.value", "value": "m2"})
    assert out[ENT] == {"manager": {"value": "m2"}}


def test_manager_in_a_pathless_extension_object_is_normalised() -> None:
    out = patch_user(user(), {"op": "add", "value": {ENT: {"manager": "m3"}}})
    assert out[ENT] == {"manager": {"value": "m3"}}


def test_remove_manager_removes_it() -> None:
    start = user(**{ENT: {"manager": {"value": "m"}, "department": "X"}})
    out = patch_user(start, {"op": "Remove", "path": f"{ENT}:manager"})
    assert out[ENT] == {"department": "X"}


@pytest.mark.parametrize("value", ["", None, [], {"value": ""}, {"value": None}])
def test_entra_replace_of_manager_with_empty_value_clears_it(value: Any) -> None:
    start = user(**{ENT: {"manager": {"value": "m"}}})
    out = patch_user(start, {"op": "Replace", "path": f"{ENT}:manager", "value": value})
    assert ENT not in out


@pytest.mark.parametrize("value", [5, True, [{"value": "a"}, {"value": "b"}], {"value": 3}])
def test_manager_values_that_are_not_an_id_are_invalid_input(value: Any) -> None:
    with pytest.raises(InvalidInput):
        patch_user(user(), {"op": "replace", "path": f"{ENT}:manager", "value": value})


def test_manager_display_name_path_is_read_only() -> None:
    with pytest.raises(Mutability):
        patch_user(user(), {"op": "replace", "path": f"{ENT}:manager.displayName", "value": "B"})


# --- 7. remove ------------------------------------------------------------------------------


def test_remove_of_a_simple_attribute() -> None:
    out = patch_user(user(title="Chair"), {"op": "remove", "path": "title"})
    assert "title" not in out


def test_remove_of_a_missing_simple_attribute_is_a_no_op() -> None:
    assert patch_user(user(), {"op": "remove", "path": "nickName"}) == user()


def test_remove_of_a_sub_attribute() -> None:
    out = patch_user(user(), {"op": "remove", "path": "name.familyName"})
    assert out["name"] == {"givenName": "Ann"}


def test_remove_of_the_last_sub_attribute_removes_the_complex_attribute() -> None:
    out = patch_user(user(name={"givenName": "Ann"}), {"op": "remove", "path": "name.givenName"})
    assert "name" not in out


def test_remove_of_a_whole_multi_valued_attribute() -> None:
    out = patch_user(user(), {"op": "remove", "path": "emails"})
    assert "emails" not in out


def test_remove_of_matching_entries() -> None:
    start = user(emails=[{"value": "w", "type": "work"}, {"value": "h", "type": "home"}])
    out = patch_user(start, {"op": "remove", "path": 'emails[type eq "work"]'})
    assert out["emails"] == [{"value": "h", "type": "home"}]


def test_remove_of_a_filter_matching_nothing_is_an_idempotent_no_op() -> None:
    assert patch_user(user(), {"op": "remove", "path": 'emails[type eq "home"]'}) == user()


def test_remove_of_a_filtered_sub_attribute_keeps_the_rest_of_the_entry() -> None:
    out = patch_user(user(), {"op": "remove", "path": 'emails[type eq "work"].primary'})
    assert out["emails"] == [{"value": "ann@example.com", "type": "work"}]


def test_remove_of_the_last_matching_entry_removes_the_attribute() -> None:
    out = patch_user(user(), {"op": "remove", "path": 'emails[type eq "work"]'})
    assert "emails" not in out


def test_remove_with_a_value_list_removes_only_the_described_entries() -> None:
    start = user(emails=[{"value": "w", "type": "work"}, {"value": "h", "type": "home"}])
    out = patch_user(start, {"op": "remove", "path": "emails", "value": [{"value": "W"}]})
    assert out["emails"] == [{"value": "h", "type": "home"}]


def test_remove_ignores_a_value_filter_sub_attribute_that_is_missing() -> None:
    start = user(emails=[{"value": "w", "type": "work"}])
    out = patch_user(start, {"op": "remove", "path": 'emails[type eq "work"].display'})
    assert out["emails"] == [{"value": "w", "type": "work"}]


# --- 8. empty Operations, lenient envelope --------------------------------------------------


def test_entra_empty_operations_list_leaves_the_resource_unchanged() -> None:
    start = user()
    out = apply_patch(start, [], user_schema())
    assert out == start
    assert out is not start


def test_the_input_resource_is_never_mutated() -> None:
    start = user(**{ENT: {"manager": {"value": "m"}}})
    frozen = copy.deepcopy(start)
    out = patch_user(
        start,
        {"op": "replace", "path": "name.givenName", "value": "Z"},
        {"op": "add", "path": 'emails[type eq "work"].value', "value": "z@z"},
        {"op": "remove", "path": f"{ENT}:manager"},
        {"op": "add", "path": f"{ENT}:department", "value": "Ops"},
    )
    assert start == frozen
    assert out["name"]["givenName"] == "Z"


def test_a_resource_without_schemas_is_patched() -> None:
    start = user()
    del start["schemas"]
    out = patch_user(start, {"op": "replace", "path": "title", "value": "T"})
    assert "schemas" not in out
    assert out["title"] == "T"


# --- 9. null values -------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["add", "replace", "Replace"])
def test_null_value_on_a_simple_attribute_clears_it(op: str) -> None:
    out = patch_user(user(title="Chair"), {"op": op, "path": "title", "value": None})
    assert "title" not in out


def test_null_value_on_a_sub_attribute_clears_it() -> None:
    out = patch_user(user(), {"op": "replace", "path": "name.givenName", "value": None})
    assert out["name"] == {"familyName": "Lee"}


def test_null_value_in_a_pathless_object_clears_the_attribute() -> None:
    out = patch_user(user(title="Chair"), {"op": "replace", "value": {"title": None}})
    assert "title" not in out


def test_null_value_on_a_filtered_sub_attribute_clears_it_in_matches() -> None:
    out = patch_user(
        user(), {"op": "replace", "path": 'emails[type eq "work"].primary', "value": None}
    )
    assert out["emails"] == [{"value": "ann@example.com", "type": "work"}]


def test_replace_of_emails_with_null_clears_them() -> None:
    out = patch_user(user(), {"op": "replace", "path": "emails", "value": None})
    assert "emails" not in out


def test_add_of_null_to_a_multi_valued_attribute_adds_nothing() -> None:
    assert patch_user(user(), {"op": "add", "path": "emails", "value": None}) == user()


# --- 11. read-only and write-only -----------------------------------------------------------


@pytest.mark.parametrize(
    "op",
    [
        {"op": "replace", "path": "meta", "value": {"version": "x"}},
        {"op": "replace", "path": "meta.version", "value": "x"},
        {"op": "remove", "path": "meta"},
        {"op": "add", "value": {"meta": {"created": "2020-01-01T00:00:00Z"}}},
        {"op": "replace", "path": "id", "value": "u2"},
        {"op": "remove", "path": "id"},
        {"op": "replace", "value": {"id": "u2", "displayName": "X"}},
        {"op": "add", "path": "groups", "value": [{"value": "g1"}]},
        {"op": "add", "value": {"groups": [{"value": "g1"}]}},
        {"op": "remove", "path": 'groups[value eq "g1"]'},
    ],
)
def test_writing_read_only_attributes_is_a_mutability_error(op: dict[str, Any]) -> None:
    with pytest.raises(Mutability) as caught:
        patch_user(user(), op)
    assert caught.value.effective_scim_type == "mutability"


def test_okta_pathless_value_echoing_the_current_id_is_ignored() -> None:
    out = patch_user(user(), {"op": "replace", "value": {"id": "u1", "active": False}})
    assert out["id"] == "u1"
    assert out["active"] is False


def test_schemas_in_a_pathless_value_are_ignored() -> None:
    out = patch_user(user(), {"op": "replace", "value": {"schemas": ["urn:x"], "displayName": "D"}})
    assert out["schemas"] == [USER_SCHEMA]
    assert out["displayName"] == "D"


def test_password_is_accepted_and_never_stored() -> None:
    out = patch_user(
        user(),
        {"op": "replace", "path": "password", "value": "hunter2"},
        {"op": "add", "value": {"password": "hunter3", "title": "T"}},
        {"op": "remove", "path": "password"},
    )
    assert "password" not in out
    assert out["title"] == "T"


def test_a_stored_password_is_never_handed_back() -> None:
    out = apply_patch(user(password="old"), [], user_schema())
    assert "password" not in out


def test_read_only_sub_attribute_inside_a_value_is_dropped() -> None:
    value = {"value": "m", "displayName": "Boss", "$ref": "../Users/m"}
    out = patch_user(user(), {"op": "add", "path": ENT, "value": {"manager": value}})
    assert out[ENT] == {"manager": {"value": "m"}}


# --- groups through apply_patch -------------------------------------------------------------


def test_group_display_name_and_external_id_go_through_apply_patch() -> None:
    start = group(schemas=[GROUP_SCHEMA, MS_GROUP_SCHEMA])
    out = apply_patch(
        start,
        [
            {"op": "replace", "path": "displayName", "value": "Audit"},
            {"op": "add", "path": "externalId", "value": "ext-1"},
        ],
        group_schema(),
    )
    assert out == {**start, "displayName": "Audit", "externalId": "ext-1"}


def test_enterprise_attributes_are_unknown_on_groups() -> None:
    with pytest.raises(InvalidPath):
        apply_patch(
            group(), [{"op": "add", "path": f"{ENT}:department", "value": "X"}], group_schema()
        )


# --- 10. group members ----------------------------------------------------------------------


def test_add_members_by_path() -> None:
    planned = plan({"op": "add", "path": "members", "value": [{"value": "id1"}, {"value": "id2"}]})
    assert planned.members == [MemberChange("add", ["id1", "id2"])]
    assert planned.resource == group()


def test_entra_remove_members_with_a_value_list_removes_exactly_those() -> None:
    planned = plan({"op": "Remove", "path": "members", "value": [{"value": "id1"}]})
    assert planned.members == [MemberChange("remove", ["id1"])]


def test_remove_members_without_value_clears() -> None:
    assert plan({"op": "remove", "path": "members"}).members == [MemberChange("clear", [])]


def test_remove_members_with_null_value_clears() -> None:
    planned = plan({"op": "remove", "path": "members", "value": None})
    assert planned.members == [MemberChange("clear", [])]


def test_remove_members_with_an_empty_list_removes_nobody() -> None:
    assert plan({"op": "remove", "path": "members", "value": []}).members == []


def test_okta_remove_member_by_value_filter() -> None:
    planned = plan({"op": "remove", "path": 'members[value eq "id1"]'})
    assert planned.members == [MemberChange("remove", ["id1"])]


def test_remove_members_by_an_or_of_value_filters() -> None:
    planned = plan(
        {"op": "remove", "path": 'members[value eq "a" or value eq "b" or value eq "a"]'}
    )
    assert planned.members == [MemberChange("remove", ["a", "b"])]


def test_member_filter_values_are_kept_case_exact() -> None:
    planned = plan({"op": "remove", "path": 'members[VALUE eq "AbC"]'})
    assert planned.members == [MemberChange("remove", ["AbC"])]


@pytest.mark.parametrize(
    "path",
    [
        'members[display eq "Ann"]',
        'members[value ne "a"]',
        'members[value eq "a" and type eq "User"]',
        "members[value pr]",
        "members[value eq 5]",
    ],
)
def test_member_filters_other_than_value_eq_are_invalid_filter(path: str) -> None:
    with pytest.raises(InvalidFilter):
        plan({"op": "remove", "path": path})


def test_add_with_a_member_filter_is_invalid_path() -> None:
    with pytest.raises(InvalidPath):
        plan({"op": "add", "path": 'members[value eq "a"]', "value": [{"value": "a"}]})


def test_member_sub_attribute_paths_are_invalid_path() -> None:
    with pytest.raises(InvalidPath):
        plan({"op": "remove", "path": "members.value"})


def test_replace_members_by_path() -> None:
    planned = plan({"op": "replace", "path": "members", "value": [{"value": "a"}, {"value": "b"}]})
    assert planned.members == [MemberChange("replace", ["a", "b"])]


def test_replace_members_with_an_empty_list_clears() -> None:
    assert plan({"op": "replace", "path": "members", "value": []}).members == [
        MemberChange("clear", [])
    ]


def test_pathless_add_of_members() -> None:
    planned = plan({"op": "add", "value": {"members": [{"value": "a"}]}})
    assert planned.members == [MemberChange("add", ["a"])]
    assert planned.resource == group()


def test_pathless_replace_of_members_and_display_name() -> None:
    planned = plan({"op": "replace", "value": {"members": [{"value": "a"}], "displayName": "X"}})
    assert planned.members == [MemberChange("replace", ["a"])]
    assert planned.resource["displayName"] == "X"


def test_okta_rename_with_the_group_id_in_the_value() -> None:
    planned = plan({"op": "replace", "value": {"id": "g1", "displayName": "New"}})
    assert planned.resource == {**group(), "displayName": "New"}
    assert planned.members == []


def test_okta_rename_with_another_id_is_a_mutability_error() -> None:
    with pytest.raises(Mutability):
        plan({"op": "replace", "value": {"id": "g2", "displayName": "New"}})


def test_member_entries_with_display_and_ref_keep_only_the_value() -> None:
    planned = plan(
        {
            "op": "add",
            "path": "members",
            "value": [
                {"value": "x", "display": "Ann"},
                {"value": "y", "$ref": "https://h/scim/v2/Users/y"},
                {"Value": "x"},
            ],
        }
    )
    assert planned.members == [MemberChange("add", ["x", "y"])]


def test_a_single_member_object_is_accepted() -> None:
    planned = plan({"op": "add", "path": "members", "value": {"value": "solo"}})
    assert planned.members == [MemberChange("add", ["solo"])]


@pytest.mark.parametrize(
    "value",
    [
        [{"display": "Ann"}],
        [{"value": 5}],
        [{"value": None}],
        [{"value": ""}],
        ["id1"],
        [None],
        [[{"value": "a"}]],
        "id1",
        5,
    ],
)
def test_member_entries_without_a_string_value_are_invalid_input(value: Any) -> None:
    with pytest.raises(InvalidInput):
        plan({"op": "add", "path": "members", "value": value})


def test_member_ids_are_kept_as_sent() -> None:
    planned = plan({"op": "add", "path": "members", "value": [{"value": " Not-A-UUID "}]})
    assert planned.members == [MemberChange("add", [" Not-A-UUID "])]


def test_member_changes_keep_request_order_with_other_operations() -> None:
    planned = plan(
        {"op": "add", "path": "members", "value": [{"value": "a"}]},
        {"op": "replace", "path": "displayName", "value": "Renamed"},
        {"op": "remove", "path": 'members[value eq "b"]'},
        {"op": "Remove", "path": "members", "value": [{"value": "a"}]},
        {"op": "add", "value": {"members": [{"value": "c"}]}},
    )
    assert planned.members == [
        MemberChange("add", ["a"]),
        MemberChange("remove", ["b"]),
        MemberChange("remove", ["a"]),
        MemberChange("add", ["c"]),
    ]
    assert planned.resource["displayName"] == "Renamed"


def test_group_member_path_may_be_urn_qualified_and_any_case() -> None:
    planned = plan({"op": "ADD", "path": f"{GROUP_SCHEMA}:Members", "value": [{"value": "a"}]})
    assert planned.members == [MemberChange("add", ["a"])]


def test_group_plan_never_puts_members_in_the_resource() -> None:
    planned = plan(
        {"op": "replace", "value": {"members": [{"value": "a"}]}},
        {"op": "add", "path": "members", "value": [{"value": "b"}]},
    )
    assert "members" not in planned.resource


def test_group_plan_does_not_mutate_its_input() -> None:
    start = group()
    frozen = copy.deepcopy(start)
    plan({"op": "replace", "path": "displayName", "value": "X"}, resource=start)
    assert start == frozen


def test_empty_group_plan_changes_nothing() -> None:
    assert plan() == GroupPatch(group(), [])


@pytest.mark.parametrize(
    "op",
    [
        {"op": "replace", "path": "id", "value": "g2"},
        {"op": "remove", "path": "meta"},
    ],
)
def test_group_read_only_attributes_are_a_mutability_error(op: dict[str, Any]) -> None:
    with pytest.raises(Mutability):
        plan(op)


def test_group_remove_without_path_is_no_target() -> None:
    with pytest.raises(NoTarget):
        plan({"op": "remove", "value": {"members": [{"value": "a"}]}})


# --- robustness: only Tenure errors escape, whatever the JSON -------------------------------


ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    10**40,
    1.5,
    float("nan"),
    "",
    "true",
    "x" * 100_000,
    [],
    [None],
    [[[]]],
    [{"value": None}],
    [{"value": "a", "primary": "yes"}],
    {},
    {"value": {"value": {"value": "x"}}},
    {"": 1},
    {"members": "x"},
    {f"{ENT}": {"manager": [[{"value": "x"}]]}},
    {"emails": [{"type": ["work"]}]},
    {"name.": 1},
    {'emails[type eq "work"].value': "x"},
    {"urn:ietf:params:scim:schemas:core:2.0:User": {"title": "T"}},
]

ODD_PATHS: list[Any] = [
    None,
    "",
    " ",
    0,
    [],
    {},
    "displayName",
    "name",
    "name.givenName",
    "emails",
    "emails.value",
    'emails[type eq "work"]',
    'emails[type eq "work"].value',
    'emails[value co "x" or not (primary pr)].primary',
    "emails[primary eq true]",
    "emails[primary gt 1]",
    'emails[type eq "work" and type eq "home"].value',
    "active",
    "id",
    "meta.created",
    "groups",
    "password",
    "members",
    'members[value eq "a"]',
    ENT,
    f"{ENT}:manager",
    f"{ENT}:manager.value",
    f"{ENT}:manager.$ref",
    f"{ENT}:employeeNumber",
    USER_SCHEMA,
    f"{USER_SCHEMA}:name.givenName",
    "urn:a:b",
    "emails[" + "not (" * 60 + "type pr" + ")" * 60 + "]",
    "emails[" + "(" * 500 + "type pr" + ")" * 500 + "]",
    'emails[type eq "\\u0000"]',
    "\u00e9mails",
    "schemas",
    "x" * 3000,
]


def _fuzz_operations(rng: random.Random) -> Any:
    if rng.random() < 0.05:
        return rng.choice(ODD_VALUES)
    ops: list[Any] = []
    for _ in range(rng.randint(0, 4)):
        if rng.random() < 0.05:
            ops.append(rng.choice(ODD_VALUES))
            continue
        op: dict[str, Any] = {}
        if rng.random() < 0.95:
            op["op"] = rng.choice(["add", "Add", "replace", "REPLACE", "remove", "Remove", "x", 1])
        if rng.random() < 0.8:
            op["path"] = rng.choice(ODD_PATHS)
        if rng.random() < 0.85:
            op["value"] = rng.choice([*ODD_VALUES, "a", {"value": "a"}, [{"value": "a"}]])
        ops.append(op)
    return ops


@pytest.mark.parametrize("seed", range(6))
def test_fuzzed_operations_raise_only_tenure_errors(seed: int) -> None:
    rng = random.Random(seed)
    resources = [
        (user(**{ENT: {"manager": {"value": "m"}}}), "user"),
        (user(emails="corrupt", name=["x"], **{ENT: "corrupt"}), "user"),
        (group(), "group"),
    ]
    for _ in range(400):
        operations = _fuzz_operations(rng)
        for resource, kind in resources:
            frozen = copy.deepcopy(resource)
            try:
                if kind == "user":
                    out = apply_patch(resource, operations, user_schema())
                else:
                    planned = plan_group_patch(resource, operations)
                    out = planned.resource
                    assert "members" not in out
                json.dumps(out)  # still a JSON document
                assert "password" not in out
            except TenureError as error:
                assert isinstance(error, InvalidInput)
                assert len(error.detail) < 400
            assert resource == frozen


def _run_all_entry_points(operations: list[Any]) -> None:
    for resource, schema in ((user(), user_schema()), (group(), group_schema())):
        with contextlib.suppress(InvalidInput):
            apply_patch(resource, operations, schema)
    with contextlib.suppress(InvalidInput):
        plan_group_patch(group(), operations)


def test_every_odd_path_and_value_pair_raises_only_input_errors() -> None:
    for path in ODD_PATHS:
        for value in ODD_VALUES:
            for op in ("add", "replace", "remove"):
                operations = [{"op": op, "path": path, "value": value}]
                try:
                    _run_all_entry_points(operations)
                except Exception as error:  # pragma: no cover - the failure report
                    pytest.fail(f"{type(error).__name__} escaped for {operations!r:.200}")


def test_a_patch_never_changes_the_resource_it_starts_from() -> None:
    from tenure.scim.patch import _copied

    for stored in (
        {"userName": "a", "emails": [{"value": "a@x", "primary": True}], "n": 1.5},
        {"userName": "b", "urn:x:ext": {"big": 2**70, "list": [1, [2, {"c": None}]]}},
    ):
        copy = _copied(stored)
        assert copy == stored
        copy["userName"] = "changed"
        next(v for v in copy.values() if isinstance(v, list | dict)).clear()
        assert stored["userName"] in ("a", "b")
        assert any(v for v in stored.values() if isinstance(v, list | dict))
