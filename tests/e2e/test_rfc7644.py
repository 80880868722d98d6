"""RFC 7644 protocol features an IdP or a SCIM client relies on, against the live server.

Bulk with bulkId references (§3.7), ETags (§3.14), attribute projection (§3.9), sorting and
paging (§3.4.2.3-4), the filter grammar (§3.4.2.2), body limits (§3.7.4 / ServiceProviderConfig)
and the Error envelope for unparseable requests (§3.12).
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.helpers import (
    GROUP,
    SEARCH_REQUEST,
    USER,
    assert_scim_error,
    bulk_body,
    create_group,
    create_user,
    member_ids,
    patch_body,
    unique,
    user_body,
)

BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"


def user_names(client: httpx.Client, scim_filter: str) -> list[str]:
    response = client.get("/Users", params={"filter": scim_filter, "sortBy": "userName"})
    assert response.status_code == 200, f"{scim_filter}: {response.text}"
    body = response.json()
    assert body["totalResults"] == len(body["Resources"])
    return [u["userName"] for u in body["Resources"]]


# -- Bulk (§3.7) --------------------------------------------------------------------------


def test_bulk_creates_a_user_and_a_group_that_references_it_by_bulk_id(scim: httpx.Client) -> None:
    name, user_name = unique("Bulk Board"), unique("bulk")

    answer = scim.post(
        "/Bulk",
        json=bulk_body(
            # the group comes first: a forward reference must wait for the user (§3.7.2)
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "board",
                "data": {
                    "schemas": [GROUP],
                    "displayName": name,
                    "members": [{"type": "User", "value": "bulkId:ann"}],
                },
            },
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": "ann",
                "data": {"schemas": [USER], "userName": user_name},
            },
        ),
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["schemas"] == [BULK_RESPONSE]
    by_id = {op["bulkId"]: op for op in body["Operations"]}
    assert by_id["ann"]["status"] == "201" and by_id["board"]["status"] == "201"
    user_id = by_id["ann"]["location"].rsplit("/", 1)[1]
    group_id = by_id["board"]["location"].rsplit("/", 1)[1]
    assert scim.get(f"/Users/{user_id}").json()["userName"] == user_name
    assert member_ids(scim, group_id) == {user_id}
    assert by_id["board"]["version"].startswith('W/"')


def test_bulk_reads_a_reference_only_where_it_is_a_whole_value(scim: httpx.Client) -> None:
    """``bulkId:X`` is a reference where it is the value (a member's, a path's id); text that
    only mentions one, like a title, is stored as it is."""
    user_name = unique("mention")
    title = "see bulkId:nobody in the minutes"

    answer = scim.post(
        "/Bulk",
        json=bulk_body(
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": "kim",
                "data": user_body(user_name, title=title),
            },
            {
                "method": "PATCH",
                "path": "/Users/bulkId:kim/",
                "data": patch_body({"op": "replace", "path": "displayName", "value": "Kim"}),
            },
            {"method": "POST", "path": "/Users", "bulkId": " ", "data": {"schemas": [USER]}},
        ),
    )

    assert answer.status_code == 200, answer.text
    created, patched, unnamed = answer.json()["Operations"]
    assert created["status"] == "201" and patched["status"] == "200", answer.text
    assert unnamed["status"] == "400" and "bulkId" in unnamed["response"]["detail"]
    stored = scim.get(created["location"].split("/scim/v2", 1)[1]).json()
    assert stored["title"] == title and stored["displayName"] == "Kim"


def test_bulk_stops_after_fail_on_errors_and_reports_only_what_ran(scim: httpx.Client) -> None:
    taken = create_user(scim)["userName"]
    never = unique("never")

    answer = scim.post(
        "/Bulk",
        json=bulk_body(
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": "a",
                "data": {"schemas": [USER], "userName": taken},
            },
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": "b",
                "data": {"schemas": [USER], "userName": never},
            },
            failOnErrors=1,
        ),
    )

    assert answer.status_code == 200, answer.text
    operations = answer.json()["Operations"]
    assert [op["bulkId"] for op in operations] == ["a"]
    assert operations[0]["status"] == "409"
    assert operations[0]["response"]["scimType"] == "uniqueness"
    assert user_names(scim, f'userName eq "{never}"') == []


def test_bulk_without_fail_on_errors_runs_every_operation(scim: httpx.Client) -> None:
    user = create_user(scim)

    answer = scim.post(
        "/Bulk",
        json=bulk_body(
            {
                "method": "PATCH",
                "path": f"/Users/{user['id']}",
                "data": patch_body({"op": "replace", "path": "title", "value": "Chair"}),
            },
            {"method": "DELETE", "path": "/Users/does-not-exist"},
            {
                "method": "PUT",
                "path": f"/Users/{user['id']}",
                "version": 'W/"999"',
                "data": {"schemas": [USER], "userName": user["userName"]},
            },
        ),
    )

    statuses = [op["status"] for op in answer.json()["Operations"]]
    assert statuses == ["200", "404", "412"]
    assert scim.get(f"/Users/{user['id']}").json()["title"] == "Chair"


def test_bulk_with_a_dangling_bulk_id_reference_fails_only_that_operation(
    scim: httpx.Client,
) -> None:
    answer = scim.post(
        "/Bulk",
        json=bulk_body(
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "g",
                "data": {
                    "schemas": [GROUP],
                    "displayName": unique("dangling"),
                    "members": [{"value": "bulkId:nobody"}],
                },
            },
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": "u",
                "data": {"schemas": [USER], "userName": unique("fine")},
            },
        ),
    )

    by_id = {op["bulkId"]: op for op in answer.json()["Operations"]}
    assert by_id["u"]["status"] == "201"
    assert by_id["g"]["status"] == "409"
    assert by_id["g"]["response"]["status"] == "409"


def test_bulk_over_the_advertised_operation_limit_is_413(scim: httpx.Client) -> None:
    limit = scim.get("/ServiceProviderConfig").json()["bulk"]["maxOperations"]
    operations = [{"method": "DELETE", "path": "/Users/x"}] * (limit + 1)

    assert_scim_error(scim.post("/Bulk", json=bulk_body(*operations)), 413)


# -- ETags (§3.14) ------------------------------------------------------------------------


def test_if_match_with_a_stale_version_is_412_and_changes_nothing(scim: httpx.Client) -> None:
    user = create_user(scim, title="Before")
    etag = scim.get(f"/Users/{user['id']}").headers["etag"]
    assert etag == user["meta"]["version"]
    scim.patch(
        f"/Users/{user['id']}",
        json=patch_body({"op": "replace", "path": "title", "value": "Moved on"}),
    )

    stale_patch = scim.patch(
        f"/Users/{user['id']}",
        headers={"If-Match": etag},
        json=patch_body({"op": "replace", "path": "title", "value": "Lost"}),
    )
    stale_put = scim.put(
        f"/Users/{user['id']}",
        headers={"If-Match": etag},
        json={"schemas": [USER], "userName": user["userName"], "title": "Lost"},
    )
    stale_delete = scim.delete(f"/Users/{user['id']}", headers={"If-Match": etag})

    for answer in (stale_patch, stale_put, stale_delete):
        assert_scim_error(answer, 412)
    assert scim.get(f"/Users/{user['id']}").json()["title"] == "Moved on"


def test_if_match_with_the_current_version_applies_and_returns_a_new_etag(
    scim: httpx.Client,
) -> None:
    group = create_group(scim)
    etag = scim.get(f"/Groups/{group['id']}").headers["etag"]

    renamed = scim.put(
        f"/Groups/{group['id']}",
        headers={"If-Match": etag},
        json={"schemas": [GROUP], "displayName": unique("renamed")},
    )

    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["etag"] != etag
    assert renamed.headers["etag"] == renamed.json()["meta"]["version"]
    assert_scim_error(scim.delete(f"/Groups/{group['id']}", headers={"If-Match": etag}), 412)


def test_if_none_match_with_the_current_version_is_304_without_a_body(scim: httpx.Client) -> None:
    user = create_user(scim)
    group = create_group(scim)
    for path in (f"/Users/{user['id']}", f"/Groups/{group['id']}"):
        etag = scim.get(path).headers["etag"]

        unchanged = scim.get(path, headers={"If-None-Match": etag})
        other = scim.get(path, headers={"If-None-Match": 'W/"999"'})

        assert unchanged.status_code == 304 and unchanged.content == b""
        assert unchanged.headers["etag"] == etag
        assert other.status_code == 200 and other.json()["id"] in path


# -- attributes and excludedAttributes (§3.9) ----------------------------------------------


def test_attributes_return_only_what_was_asked_plus_id_and_schemas(scim: httpx.Client) -> None:
    user = create_user(
        scim,
        title="Chair",
        name={"givenName": "Ann", "familyName": "Lee"},
        emails=[{"type": "work", "value": "ann@example.org", "primary": True}],
    )

    one = scim.get(f"/Users/{user['id']}", params={"attributes": "userName,emails.value"}).json()
    listed = scim.get(
        "/Users", params={"filter": f'id eq "{user["id"]}"', "attributes": "name.givenName"}
    ).json()["Resources"][0]

    assert one == {
        "schemas": [USER],
        "id": user["id"],
        "userName": user["userName"],
        "emails": [{"value": "ann@example.org"}],
    }
    assert listed == {"schemas": [USER], "id": user["id"], "name": {"givenName": "Ann"}}


def test_excluded_attributes_drop_those_and_never_id(scim: httpx.Client) -> None:
    user = create_user(scim, title="Chair", emails=[{"value": "x@example.org"}])
    group = create_group(scim, members=[user["id"]])

    lean = scim.get(f"/Users/{user['id']}", params={"excludedAttributes": "emails,title,id"}).json()
    bare = scim.get(f"/Groups/{group['id']}", params={"excludedAttributes": "members"}).json()

    assert "emails" not in lean and "title" not in lean
    assert lean["id"] == user["id"] and lean["userName"] == user["userName"]
    assert "members" not in bare and bare["displayName"] == group["displayName"]


def test_search_request_body_applies_attributes_and_filter(scim: httpx.Client) -> None:
    user = create_user(scim, title="Searcher")

    answer = scim.post(
        "/Users/.search",
        json={
            "schemas": [SEARCH_REQUEST],
            "filter": f'userName eq "{user["userName"]}"',
            "attributes": ["title"],
            "startIndex": 1,
            "count": 10,
        },
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["Resources"] == [
        {"schemas": [USER], "id": user["id"], "title": "Searcher"}
    ]


# -- sorting and paging (§3.4.2.3, §3.4.2.4) -----------------------------------------------


def test_sorted_pages_are_stable_complete_and_count_exactly(fresh: httpx.Client) -> None:
    names = ["mia", "Bea", "zoe", "ann", "Kim", "eve", "lou"]
    for name in names:
        # every displayName ties: the order within a tie must still be stable across pages
        create_user(fresh, name, displayName="Same")
    expected = sorted(names, key=str.lower)

    for order, wanted in (("ascending", expected), ("descending", expected[::-1])):
        seen: list[str] = []
        for start in (1, 4, 7):
            page = fresh.get(
                "/Users",
                params={"sortBy": "userName", "sortOrder": order, "startIndex": start, "count": 3},
            ).json()
            assert page["totalResults"] == len(names)
            assert page["startIndex"] == start
            assert page["itemsPerPage"] == len(page["Resources"])
            seen += [u["userName"] for u in page["Resources"]]
        assert seen == wanted, order

    tied: list[str] = []
    for start in range(1, 8, 2):
        page = fresh.get(
            "/Users", params={"sortBy": "displayName", "startIndex": start, "count": 2}
        ).json()
        tied += [u["id"] for u in page["Resources"]]
    assert len(tied) == len(set(tied)) == len(names)


def test_a_page_past_the_end_is_empty_but_still_counts_everything(fresh: httpx.Client) -> None:
    for _ in range(3):
        create_user(fresh)

    page = fresh.get("/Users", params={"startIndex": 50, "count": 10}).json()
    nothing = fresh.get("/Users", params={"count": 0}).json()
    huge = fresh.get("/Users", params={"startIndex": 10**30}).json()

    assert page["totalResults"] == 3 and page["Resources"] == [] and page["itemsPerPage"] == 0
    assert nothing["totalResults"] == 3 and nothing["Resources"] == []
    assert huge["totalResults"] == 3 and huge["Resources"] == []


# -- filters (§3.4.2.2) -------------------------------------------------------------------


def _population(client: httpx.Client) -> dict[str, dict[str, Any]]:
    people = {
        "ann": create_user(
            client,
            "ann",
            title="Chair",
            displayName="Ann Lee",
            emails=[
                {"type": "work", "value": "ann@x.org"},
                {"type": "home", "value": "ann@home.net"},
            ],
        ),
        "bob": create_user(
            client, "bob", title="Member", emails=[{"type": "work", "value": "bob@y.org"}]
        ),
        "cy": create_user(client, "cy", emails=[{"type": "work", "value": "cy@x.org"}]),
        "dee": create_user(
            client, "dee", active=False, emails=[{"type": "home", "value": "dee@x.org"}]
        ),
    }
    return people


def test_every_filter_operator_selects_exactly_the_right_users(fresh: httpx.Client) -> None:
    people = _population(fresh)
    first = people["ann"]["meta"]["created"]
    cases = {
        'userName eq "ANN"': ["ann"],
        'userName ne "ann"': ["bob", "cy", "dee"],
        'userName co "o"': ["bob"],
        'userName sw "d"': ["dee"],
        'userName ew "y"': ["cy"],
        "title pr": ["ann", "bob"],
        "not (title pr)": ["cy", "dee"],
        'userName gt "bob"': ["cy", "dee"],
        'userName ge "bob"': ["bob", "cy", "dee"],
        'userName lt "bob"': ["ann"],
        'userName le "bob"': ["ann", "bob"],
        f'meta.created le "{first}"': ["ann"],
        f'meta.created gt "{first}"': ["bob", "cy", "dee"],
        "active eq false": ["dee"],
        'title eq "chair" or title eq "MEMBER"': ["ann", "bob"],
        '(userName eq "ann" or userName eq "bob") and not (title eq "Chair")': ["bob"],
        'emails[type eq "work" and value co "@x"]': ["ann", "cy"],
        'emails[type eq "home"] and active eq true': ["ann"],
        'emails.value ew "x.org"': ["ann", "cy", "dee"],
        'emails[not (type eq "work")]': ["ann", "dee"],
        'displayName co "lee" and emails pr': ["ann"],
    }

    wrong = {
        f: (user_names(fresh, f), want) for f, want in cases.items() if user_names(fresh, f) != want
    }

    assert not wrong, wrong


def test_like_wildcards_in_filter_values_match_literally(fresh: httpx.Client) -> None:
    for name, title in (("a%c", "50% off"), ("abc", "500 off"), ("a_c", "a_b"), ("axc", "axb")):
        create_user(fresh, name, title=title)

    assert user_names(fresh, 'userName co "%"') == ["a%c"]
    assert user_names(fresh, 'userName sw "a_"') == ["a_c"]
    assert user_names(fresh, 'userName ew "_c"') == ["a_c"]
    assert user_names(fresh, 'title co "0%"') == ["a%c"]
    assert user_names(fresh, 'title co "_"') == ["a_c"]
    assert user_names(fresh, 'userName co "\\\\"') == []


def test_group_filters_on_display_name_and_members(fresh: httpx.Client) -> None:
    ann = create_user(fresh, "ann")
    create_group(fresh, "Audit Committee", [ann["id"]])
    create_group(fresh, "Board", [])

    def names(scim_filter: str) -> list[str]:
        body = fresh.get("/Groups", params={"filter": scim_filter, "sortBy": "displayName"}).json()
        return [g["displayName"] for g in body["Resources"]]

    assert names('displayName sw "audit"') == ["Audit Committee"]
    assert names(f'members[value eq "{ann["id"]}"]') == ["Audit Committee"]
    assert names("not (members pr)") == ["Board"]


def test_unknown_attributes_and_bad_syntax_are_invalid_filter_never_ignored(
    fresh: httpx.Client,
) -> None:
    create_user(fresh, "ann")
    for scim_filter in (
        'favouriteColour eq "blue"',
        'userName eq "ann" and shoeSize gt 4',
        "userName eq",
        '(userName eq "ann"',
        'userName zz "a"',
        'emails[type eq "work"',
        'urn:unknown:schema:attr eq "x"',
    ):
        answer = fresh.get("/Users", params={"filter": scim_filter})
        assert_scim_error(answer, 400, "invalidFilter")


# -- limits and syntax --------------------------------------------------------------------


def test_a_body_over_the_advertised_maximum_is_413(scim: httpx.Client) -> None:
    limit = scim.get("/ServiceProviderConfig").json()["bulk"]["maxPayloadSize"]
    body = {"schemas": [USER], "userName": unique(), "title": "x" * (limit + 10)}

    assert_scim_error(scim.post("/Users", json=body), 413)
    assert_scim_error(
        scim.post(
            "/Bulk", content=b" " * (limit + 1), headers={"Content-Type": "application/scim+json"}
        ),
        413,
    )


def test_malformed_json_is_400_invalid_syntax(scim: httpx.Client) -> None:
    user = create_user(scim)
    for method, path in (
        ("POST", "/Users"),
        ("PUT", f"/Users/{user['id']}"),
        ("PATCH", f"/Users/{user['id']}"),
        ("POST", "/Groups"),
        ("POST", "/Bulk"),
        ("POST", "/.search"),
    ):
        answer = scim.request(
            method,
            path,
            content=b'{"schemas": [',
            headers={"Content-Type": "application/scim+json"},
        )
        assert_scim_error(answer, 400, "invalidSyntax")


def test_discovery_documents_describe_what_the_server_does(scim: httpx.Client) -> None:
    config = scim.get("/ServiceProviderConfig").json()
    types = {t["id"]: t for t in scim.get("/ResourceTypes").json()["Resources"]}
    schemas = {s["id"] for s in scim.get("/Schemas").json()["Resources"]}

    assert all(config[f]["supported"] for f in ("patch", "bulk", "filter", "sort", "etag"))
    assert config["changePassword"]["supported"] is False
    assert types["User"]["endpoint"] == "/Users" and types["Group"]["endpoint"] == "/Groups"
    assert {types["User"]["schema"], types["Group"]["schema"]} <= schemas
    assert_scim_error(scim.put("/ServiceProviderConfig", json={}), 405)
    # One document by its id (RFC 7644 §4): a schema by its URN, a resource type by name.
    user_schema = scim.get(f"/Schemas/{types['User']['schema']}")
    assert user_schema.status_code == 200
    assert user_schema.json()["id"] == types["User"]["schema"]
    assert scim.get("/ResourceTypes/Group").json()["endpoint"] == "/Groups"


def test_paths_and_methods_scim_does_not_serve_answer_as_scim_errors(scim: httpx.Client) -> None:
    assert_scim_error(scim.get("/Devices"), 404)
    assert_scim_error(scim.get("/Users/some-id/photos"), 404)
    assert_scim_error(scim.post("/Users/some-id", json={}), 405)
    assert_scim_error(scim.put("/Groups", json={}), 405)
    assert_scim_error(scim.delete("/Users"), 405)
    assert_scim_error(scim.get("/Users//some-id"), 404)
    assert_scim_error(scim.get("/Users/.search"), 404)  # an id, as any other: no such user


def test_a_collection_with_a_trailing_slash_is_the_collection(scim: httpx.Client) -> None:
    """An IdP whose base URL was typed with a trailing slash gets answers, not redirects."""
    user_name = unique("slash")
    made = scim.post("/Users/", json=user_body(user_name), follow_redirects=False)
    assert made.status_code == 201, made.text
    found = scim.get("/Users/", params={"filter": f'userName eq "{user_name}"'})
    assert found.status_code == 200 and found.json()["Resources"][0]["id"] == made.json()["id"]
    assert scim.get("/Groups/", follow_redirects=False).status_code == 200
    assert_scim_error(scim.delete("/Users/"), 405)


# -- PATCH results (§3.5.2) ----------------------------------------------------------------


def test_group_patch_answers_the_whole_group_or_what_attributes_ask_for(
    scim: httpx.Client,
) -> None:
    member = create_user(scim)
    group = create_group(scim)
    add = patch_body({"op": "add", "path": "members", "value": [{"value": member["id"]}]})

    plain = scim.patch(f"/Groups/{group['id']}", json=add)
    asked = scim.patch(
        f"/Groups/{group['id']}",
        params={"attributes": "members,displayName"},
        json=patch_body({"op": "replace", "path": "displayName", "value": unique("asked")}),
    )
    lean = scim.patch(
        f"/Groups/{group['id']}",
        params={"excludedAttributes": "members"},
        json=patch_body({"op": "replace", "path": "externalId", "value": "x-1"}),
    )

    # §3.5.2: 200 with "the entire resource" (subject to attributes) - never a 200 that
    # silently leaves out the members. (Groups above a size answer 204: see
    # tests/integration/test_scim_groups.py and docs/decisions/0003.)
    assert plain.status_code == 200
    assert [m["value"] for m in plain.json()["members"]] == [member["id"]]
    assert plain.headers["etag"] == 'W/"2"'  # the new version, as after any change
    assert asked.status_code == 200
    assert [m["value"] for m in asked.json()["members"]] == [member["id"]]
    assert lean.status_code == 200 and "members" not in lean.json()
    assert lean.json()["externalId"] == "x-1"


def test_removing_active_leaves_it_unassigned_and_the_user_active(scim: httpx.Client) -> None:
    user = create_user(scim, active=True)

    removed = scim.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "remove", "path": "active"})
    )

    # §3.5.2.2: the attribute "SHALL be considered unassigned", so it is not echoed;
    # Tenure reads an unassigned active as true, like a POST that sends none.
    assert removed.status_code == 200, removed.text
    assert "active" not in removed.json()
    assert "active" not in scim.get(f"/Users/{user['id']}").json()
    assert user_names(scim, f'userName eq "{user["userName"]}" and active eq true') == [
        user["userName"]
    ]
    back = scim.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "replace", "path": "active", "value": False})
    )
    assert back.json()["active"] is False


def test_manager_reference_points_at_the_managers_resource(scim: httpx.Client) -> None:
    manager = create_user(scim)
    user = create_user(scim)

    patched = scim.patch(
        f"/Users/{user['id']}",
        json=patch_body(
            {
                "op": "add",
                "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "value": {"manager": {"value": manager["id"], "$ref": "ignored"}},
            }
        ),
    )

    enterprise = patched.json()["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
    assert enterprise["manager"] == {"value": manager["id"], "$ref": manager["meta"]["location"]}
