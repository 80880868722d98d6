"""The shapes read without the grammar build exactly what the grammar builds."""

from __future__ import annotations

import pytest
from scim2_models import Path, ScimFilter

from tenure.domain.errors import InvalidFilter, InvalidPath
from tenure.scim.filter import parse
from tenure.scim.patch import apply_patch
from tenure.scim.schema import user_schema
from tenure.scim.shapes import comparison, patch_path

SIMPLE = [
    'userName eq "bjensen"',
    'userName EQ "Ann.Lee@Example.com"',
    'externalId eq "0f8a-11"',
    '  displayName co "O\\"Brien"  ',
    'name.givenName sw "An"',
    'emails.value ew "@example.com"',
    'meta.lastModified gt "2011-05-13T04:42:34Z"',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Finance"',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1"',
    'userName eq "tab\\tand \\u00e9"',
    'id eq ""',
]


@pytest.mark.parametrize("text", SIMPLE)
def test_simple_filters_parse_to_the_same_tree_as_the_grammar(text: str) -> None:
    fast = comparison(text)
    assert fast is not None
    assert fast == ScimFilter(text).ast


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "a" and active eq true',
        "active eq true",
        'emails[type eq "work"]',
        "title pr",
        'not (userName eq "x")',
    ],
)
def test_other_filters_go_through_the_grammar(text: str) -> None:
    assert comparison(text) is None
    assert parse(text) == ScimFilter(text).ast


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "unterminated',
        'userName eq "bad \\x escape"',
        '1abc eq "x"',
        'userName zz "x"',
        "",
    ],
)
def test_malformed_filters_are_invalid_filter_errors(text: str) -> None:
    with pytest.raises(InvalidFilter):
        parse(text)


PATHS = [
    "members",
    "displayName",
    "name.givenName",
    "emails",
    "x-custom_attr",
    'members[value eq "2819c223-7f76-453a-919d-413861904646"]',
    'members[VALUE EQ "a"]',
    'emails[type eq "work"].value',
    'emails[type eq "work"]',
    'members[value eq "quote \\" and \\u00e9"]',
    'members[value eq "with ] bracket"]',
    'members[value ne ""]',
]


@pytest.mark.parametrize("text", PATHS)
def test_common_patch_paths_read_to_the_same_node_as_the_grammar(text: str) -> None:
    fast = patch_path(text)
    assert fast is not None
    assert fast == Path(text).ast


@pytest.mark.parametrize(
    "text",
    [
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        'members[value eq "a" or value eq "b"]',
        "members[value pr]",
        'emails[type eq "work" ]',
        "members[value eq 5]",
        "name.givenName.more",
        " members",
        "members[",
        "$ref",
        'members[value eq "bad \\x escape"]',
    ],
)
def test_other_patch_paths_go_through_the_grammar(text: str) -> None:
    assert patch_path(text) is None


@pytest.mark.parametrize("path", ['members[value eq "bad \\x escape"]', "members[", "1abc"])
def test_malformed_patch_paths_are_still_invalid_paths(path: str) -> None:
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a"}
    with pytest.raises(InvalidPath):
        apply_patch(user, [{"op": "remove", "path": path}], user_schema())
