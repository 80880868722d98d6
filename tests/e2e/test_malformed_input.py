"""No malformed request gets anything but a 4xx with a SCIM Error body (RFC 7644 §3.12).

IdPs retry failures for days and quarantine jobs that keep failing; a 500 or a dropped
connection tells the admin nothing. Each test sends a batch of odd inputs and reports every
response that is not a well-formed 4xx Error at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import (
    ENTERPRISE,
    ERROR,
    GROUP,
    PATCH_OP,
    SEARCH_REQUEST,
    USER,
    bulk_body,
    create_group,
    create_user,
    unique,
)

ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    10**40,
    True,
    "",
    "x" * 100_000,
    "\u0000",
    [],
    [None],
    [[[]]],
    {},
    {"value": None},
    {"a": {"b": {"c": {}}}},
    ["x", 1, None, {}],
]
RAW_BODIES: list[bytes] = [
    b"[",
    b"{",
    b"nul",
    b"[]",
    b"1",
    b"null",
    b'"text"',
    b"true",
    b"{}",
    b"\xff\xfe\xfd",  # invalid UTF-8
    b'{"userName": "\xc3\x28"}',  # invalid UTF-8 inside a string
    b'{"a": NaN}',
    b'{"a": 1e999}',
    b'{"a": 1,}',
    b"{'a': 1}",
    b"[" * 5000 + b"]" * 5000,  # deeply nested
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b'{"schemas": "' + USER.encode() + b'"}',
    b'{"schemas": [null], "Operations": {}}',
    b'{"schemas": ["' + PATCH_OP.encode() + b'"], "Operations": "replace"}',
]


def is_scim_client_error(response: httpx.Response) -> bool:
    if not 400 <= response.status_code < 500:
        return False
    if not response.headers.get("content-type", "").startswith("application/scim+json"):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and body.get("schemas") == [ERROR]
        and body.get("status") == str(response.status_code)
        and isinstance(body.get("detail"), str)
    )


def describe(response: httpx.Response, label: str) -> str:
    return f"{label} -> {response.status_code} {response.text[:200]!r}"


def assert_all_client_errors(results: Iterable[tuple[str, httpx.Response]]) -> None:
    wrong = [describe(r, label) for label, r in results if not is_scim_client_error(r)]
    assert not wrong, "\n".join(wrong[:40]) + f"\n({len(wrong)} in all)"


@pytest.fixture
def targets(scim: httpx.Client) -> list[tuple[str, str]]:
    user = create_user(scim)
    group = create_group(scim)
    return [
        ("POST", "/Users"),
        ("PUT", f"/Users/{user['id']}"),
        ("PATCH", f"/Users/{user['id']}"),
        ("POST", "/Groups"),
        ("PUT", f"/Groups/{group['id']}"),
        ("PATCH", f"/Groups/{group['id']}"),
        ("POST", "/Bulk"),
        ("POST", "/Users/.search"),
        ("POST", "/Groups/.search"),
        ("POST", "/.search"),
    ]


def test_unparseable_and_wrongly_shaped_bodies_are_scim_client_errors(
    scim: httpx.Client, targets: list[tuple[str, str]]
) -> None:
    headers = {"Content-Type": "application/scim+json"}
    results = [
        (f"{method} {path} {raw[:24]!r}", scim.request(method, path, content=raw, headers=headers))
        for method, path in targets
        for raw in RAW_BODIES
    ]
    results += [
        (f"{method} {path} <empty>", scim.request(method, path, headers=headers))
        for method, path in targets
        if method != "DELETE"
    ]

    assert_all_client_errors(results)


def test_wrong_types_in_every_user_attribute_are_scim_client_errors(scim: httpx.Client) -> None:
    user = create_user(scim)
    attributes = [
        "userName",
        "name",
        "displayName",
        "emails",
        "phoneNumbers",
        "addresses",
        "active",
        "title",
        "locale",
        "x509Certificates",
        "roles",
        "externalId",
        ENTERPRISE,
        f"{ENTERPRISE}:manager",
        f"{ENTERPRISE}:department",
        "schemas",
    ]
    results: list[tuple[str, httpx.Response]] = []
    for attribute in attributes:
        for value in ODD_VALUES:
            body = {"schemas": [USER], "userName": unique(), attribute: value}
            label = f"{attribute}={json.dumps(value)[:30]}"
            # PUT shares POST's validation: a few values for it keep the matrix quick
            puts = (("PUT", f"/Users/{user['id']}"),) if value in (None, [], {}, "") else ()
            for method, path in (("POST", "/Users"), *puts):
                answer = scim.request(method, path, json=body)
                if answer.status_code >= 300:
                    results.append((f"{method} {label}", answer))
                else:  # leniency is fine (RFC 7644 §3.3), a crash or a 5xx is not
                    assert answer.status_code in (200, 201), describe(answer, label)
            answer = scim.patch(
                f"/Users/{user['id']}",
                json={
                    "schemas": [PATCH_OP],
                    "Operations": [{"op": "replace", "path": attribute, "value": value}],
                },
            )
            if answer.status_code != 200:
                results.append((f"PATCH {label}", answer))

    assert_all_client_errors(results)
    # the user survived every attempt
    assert scim.get(f"/Users/{user['id']}").status_code == 200


def test_malformed_patch_operations_are_scim_client_errors(scim: httpx.Client) -> None:
    user = create_user(scim)
    group = create_group(scim)
    operations: list[Any] = [
        None,
        1,
        "add",
        [],
        {},
        {"op": None},
        {"op": 1},
        {"op": "merge", "path": "title"},
        {"op": "add"},
        {"op": "remove"},
        {"op": "add", "path": 5, "value": "x"},
        {"op": "add", "path": "", "value": 1},
        {"op": "add", "path": "nosuch", "value": 1},
        {"op": "replace", "path": "emails[type eq", "value": 1},
        {"op": "replace", "path": "emails[nosuch eq 1].value", "value": "x"},
        {"op": "replace", "path": "id", "value": "other"},
        {"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"},
        {"op": "add", "path": "members", "value": "not-a-list"},
        {"op": "add", "path": "members", "value": [{"value": 5}]},
        {"op": "add", "path": 'members[value eq "x"]', "value": [{"value": "x"}]},
        {"op": "remove", "path": 'members[display co "x"]'},
        {"op": "replace", "value": "not-an-object"},
        {"op": "replace", "path": "x" * 5000, "value": 1},
        {"op": "replace", "path": "(" * 200, "value": 1},
    ]
    results: list[tuple[str, httpx.Response]] = []
    for operation in operations:
        for path in (f"/Users/{user['id']}", f"/Groups/{group['id']}"):
            answer = scim.patch(path, json={"schemas": [PATCH_OP], "Operations": [operation]})
            if answer.status_code not in (200, 204):
                results.append((f"PATCH {path.split('/')[1]} {json.dumps(operation)[:60]}", answer))
    for body in (
        {"Operations": [{"op": "add", "path": "title", "value": "x"}], "schemas": ["urn:wrong"]},
        {"schemas": [PATCH_OP]},
        {"operations": 1},
    ):
        results.append((f"PATCH body {body}", scim.patch(f"/Users/{user['id']}", json=body)))

    assert_all_client_errors(results)
    bodies = [json.dumps(op)[:60] for op in operations]
    assert len(results) >= len(bodies), "most of these operations must be refused"


def test_odd_query_parameters_are_scim_client_errors(scim: httpx.Client) -> None:
    params: list[dict[str, Any]] = [
        {"filter": "userName eq"},
        {"filter": "x" * 5000},
        {"filter": '"' * 11},
        {"filter": "(" * 300 + 'userName eq "a"' + ")" * 299},
        {"filter": "not (" * 100 + 'userName eq "a"' + ")" * 100},  # nests too deep
        {"filter": 'userName eq "a" or ' * 300 + 'userName eq "b"'},  # too long
        {"filter": 'meta.created gt "not a date"'},
        {"filter": "active gt true"},
        {"filter": 'emails[emails[type eq "a"]]'},
        {"filter": "\u0000"},
        {"startIndex": "first"},
        {"count": "many"},
        {"count": "1.5"},
        {"sortBy": "("},
        {"sortBy": "nosuch"},
        {"sortOrder": "sideways"},
    ]
    results = [
        (f"GET {path} {p}", scim.get(path, params=p))
        for path in ("/Users", "/Groups")
        for p in params
    ]
    search_bodies: list[Any] = [
        {"schemas": [SEARCH_REQUEST], "filter": 5},
        {"schemas": [SEARCH_REQUEST], "count": "x"},
        {"schemas": [SEARCH_REQUEST], "count": 1.5},
        {"schemas": [SEARCH_REQUEST], "sortBy": []},
        {"schemas": [SEARCH_REQUEST], "attributes": [1]},
        {"filter": 'userName eq "a"'},
    ]
    results += [(f"search {b}", scim.post("/Users/.search", json=b)) for b in search_bodies]

    assert_all_client_errors(results)


def test_odd_paths_methods_and_headers_are_scim_client_errors(scim: httpx.Client) -> None:
    user = create_user(scim)
    results = [
        (f"{m} {p}", scim.request(m, p, json={}))
        for m in ("GET", "PUT", "PATCH", "DELETE", "POST")
        for p in ("/Nope", "/Users/a/b", "/Schemas/urn:nope", "/ResourceTypes/Nope")
    ]
    results += [
        (f"{m} /Users/<odd id>", scim.request(m, f"/Users/{odd}", json={}))
        for m in ("GET", "DELETE")
        for odd in ("%00", "x" * 3000, "%ff", "😀")
    ]
    results += [
        (
            f"If-Match {h!r}",
            scim.put(
                f"/Users/{user['id']}",
                headers={"If-Match": h},
                json={"schemas": [USER], "userName": unique()},
            ),
        )
        for h in ('W/"x"', '"', ",,,", "x" * 5000)
    ]
    results += [
        (
            f"Bulk {op}",
            scim.post("/Bulk", json=bulk_body(*op, failOnErrors=0)),
        )
        for op in ([], [{"method": "POST"}])
    ]

    assert_all_client_errors(results)


def test_odd_bulk_operations_fail_one_by_one_with_error_responses(scim: httpx.Client) -> None:
    operations: list[Any] = [
        None,
        1,
        "POST",
        {},
        {"method": "POST", "path": "/Users"},
        {"method": "GET", "path": "/Users"},
        {"method": "POST", "path": "/Nope", "bulkId": "n"},
        {"method": "PATCH", "path": "/Users"},
        {"method": 5, "path": 6},
        {"method": "POST", "path": "/Users", "bulkId": "x", "data": "not an object"},
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "y",
            "data": {"schemas": [GROUP], "displayName": unique(), "members": "all"},
        },
    ]

    answer = scim.post("/Bulk", json=bulk_body(*operations))

    assert answer.status_code == 200, answer.text
    results = answer.json()["Operations"]
    assert len(results) == len(operations)
    for result in results:
        assert 400 <= int(result["status"]) < 500, result
        assert result["response"]["schemas"] == [ERROR], result


# A JSON-style escape inside a filter's or a PATCH path's string makes a character no database
# can hold: NUL, which PostgreSQL refuses in text, or half of a surrogate pair, which is not
# Unicode. Both had answered 500; on SQLite a NUL had been stored through a PATCH path.
ESCAPED = [r"\u0000", r"x\u0000", r"\ud800", r"\udfff x", r"a\ud83d"]


def test_escapes_no_database_can_hold_in_a_filter_are_invalid_filters(scim: httpx.Client) -> None:
    filters = [
        template.format(escaped)
        for escaped in ESCAPED
        for template in (
            'userName eq "{}"',
            'externalId sw "{}"',
            'displayName co "{}"',
            'userName eq "a" or name.familyName eq "{}"',
            'not (emails[value ew "{}"])',
            'emails[type eq "work" and value eq "{}"]',
        )
    ]
    results = [(f"GET /Users {f}", scim.get("/Users", params={"filter": f})) for f in filters]
    results += [(f"GET /Groups {f}", scim.get("/Groups", params={"filter": f})) for f in filters]
    results += [
        (f"search {f}", scim.post("/.search", json={"schemas": [SEARCH_REQUEST], "filter": f}))
        for f in filters
    ]

    assert_all_client_errors(results)
    assert {r.json().get("scimType") for _, r in results} == {"invalidFilter"}


def test_escapes_no_database_can_hold_in_a_patch_path_are_invalid_paths_and_change_nothing(
    scim: httpx.Client,
) -> None:
    user = create_user(scim, emails=[{"value": "kept@example.org", "type": "work"}])
    group = create_group(scim, members=[user["id"]])
    results: list[tuple[str, httpx.Response]] = []
    for escaped in ESCAPED:
        for where, path in (
            ("user", f'emails[type eq "{escaped}"].value'),
            ("user", f'phoneNumbers[type eq "{escaped}"].value'),
            ("user", f'emails[type eq "work" or value eq "{escaped}"].type'),
            ("group", f'members[value eq "{escaped}"]'),
        ):
            target = f"/Users/{user['id']}" if where == "user" else f"/Groups/{group['id']}"
            op = (
                {"op": "remove", "path": path}
                if where == "group"
                else {"op": "add", "path": path, "value": "v@example.org"}
            )
            answer = scim.patch(target, json={"schemas": [PATCH_OP], "Operations": [op]})
            results.append((f"PATCH {where} {path}", answer))

    assert_all_client_errors(results)
    assert {r.json().get("scimType") for _, r in results} == {"invalidPath"}
    again = scim.get(f"/Users/{user['id']}").json()
    assert again["emails"] == [{"value": "kept@example.org", "type": "work"}]
    assert "phoneNumbers" not in again
    members = scim.get(f"/Groups/{group['id']}").json()["members"]
    assert [m["value"] for m in members] == [user["id"]]


def test_sorting_by_anything_but_an_attribute_path_is_an_invalid_value(scim: httpx.Client) -> None:
    odd = [
        "userName pr or userName",
        'userName eq "a" and userName',
        'emails[type eq "work"].value',
        'emails[type eq "work"]',
        "not (userName)",
    ]
    results = [
        (f"GET {path} sortBy={s}", scim.get(path, params={"sortBy": s}))
        for path in ("/Users", "/Groups")
        for s in odd
    ]
    results += [
        (
            f"search sortBy={s}",
            scim.post("/.search", json={"schemas": [SEARCH_REQUEST], "sortBy": s}),
        )
        for s in odd
    ]

    assert_all_client_errors(results)
    assert {r.json().get("scimType") for _, r in results} == {"invalidValue"}
