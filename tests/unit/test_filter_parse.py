"""The fast path for simple filters builds exactly what the full grammar builds."""

from __future__ import annotations

import pytest
from scim2_models import ScimFilter

from tenure.domain.errors import InvalidFilter
from tenure.scim.filter import _simple, parse

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
    fast = _simple(text)
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
    assert _simple(text) is None
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
