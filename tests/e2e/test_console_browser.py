"""The console in a real browser: support restores and undoes, admins file requests, drift, audit.

A real ``tenure serve`` (SQLite and PostgreSQL), Debian's Chromium, and a story told over SCIM
HTTP (see ``console_conftest``). The assertions read what a person sees: headings, text, badges.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import console_conftest as fixtures
from tests.e2e.console_conftest import ConsoleServer

pytestmark = pytest.mark.browser

# The fixtures live in console_conftest; binding them here makes pytest see them in this module.
browser_type_launch_args = fixtures.browser_type_launch_args
browser_context_args = fixtures.browser_context_args
console_servers = fixtures.console_servers
console_server = fixtures.console_server
base_url = fixtures.base_url
story = fixtures.story

SHOTS = Path("/tmp/console-shots")
ADA = "ada@northwind.example"


def shot(page: Page, server: ConsoleServer, name: str) -> None:
    """A full-page screenshot for a human to look at (SQLite run only: the pages are the same)."""
    if server.backend == "sqlite":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, server: ConsoleServer, key: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    if key == server.support_key:
        expect(page.get_by_role("heading", name="Choose an organisation")).to_be_visible()
        page.get_by_label("Organisation", exact=True).select_option(
            label=f"{server.org_name} (northwind-trust)"
        )
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name=server.org_name)).to_be_visible()


def go(page: Page, section: str) -> None:
    """Follow a link in the main navigation bar."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=section).click()


def open_timeline(page: Page) -> None:
    go(page, "People")
    page.get_by_label("E-mail or userName").fill(ADA)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()


def test_support_previews_restores_and_undoes_from_the_timeline(
    page: Page, story: ConsoleServer
) -> None:
    log_in(page, story, story.support_key)
    expect(page.get_by_role("link", name="Audit Committee")).to_be_visible()
    expect(page.get_by_text("pending restore requests")).to_be_visible()
    shot(page, story, "overview")

    page.get_by_role("link", name="Audit Committee").click()
    members = page.get_by_role("row").filter(has_text="Ada Lovelace")
    expect(members.locator(".badge", has_text="inactive")).to_have_count(1)
    expect(members.get_by_text("1 meeting")).to_have_count(1)
    shot(page, story, "room")

    open_timeline(page)
    room = page.get_by_role("article").filter(has_text="Audit Committee")
    expect(room.locator(".badge", has_text=re.compile("^active$"))).to_have_count(1)
    expect(room.locator(".badge", has_text="inactive")).to_have_count(1)
    expect(room).to_contain_text("removed from the group")
    shot(page, story, "timeline")

    room.get_by_role("link", name="Restore…").click()
    after = page.get_by_role("region", name="After: membership B")
    expect(after).to_contain_text("assistant")
    expect(after).to_contain_text("1 meeting")
    expect(after).to_contain_text("1 note")
    expect(after).to_contain_text("1 task")
    expect(page.get_by_role("region", name="Now: membership A")).to_contain_text("member")
    expect(page.get_by_text("the role changes from member back to assistant")).to_be_visible()
    shot(page, story, "restore-preview")
    if story.backend == "sqlite":
        page.set_viewport_size({"width": 420, "height": 900})
        shot(page, story, "restore-preview-narrow")
        page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_label("Reason", exact=True).fill("ticket 4711: removed by mistake")
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("^Restored"))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Restored")
    expect(page.locator(".badge", has_text="done")).to_be_visible()
    expect(page.get_by_text("ticket 4711: removed by mistake")).to_be_visible()
    shot(page, story, "restore-result")

    page.get_by_role("button", name="Undo this restore").click()
    expect(page.get_by_role("heading", name=re.compile("^Restore undone"))).to_be_visible()
    expect(page.locator(".badge", has_text="undone")).to_be_visible()
    page.get_by_role("link", name="See Ada Lovelace's timeline").click()
    room = page.get_by_role("article").filter(has_text="Audit Committee")
    expect(room.get_by_role("cell", name="restore undone")).to_have_count(2)

    go(page, "Audit log")
    page.get_by_label("Action").fill("support:membership:restore")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name="support:membership:restore")).to_have_count(1)
    expect(page.get_by_text("“ticket 4711: removed by mistake”")).to_be_visible()
    page.get_by_role("link", name="Clear").click()
    expect(page.get_by_role("cell", name="support:restore:undo")).to_be_visible()
    shot(page, story, "audit")


def test_an_admin_without_self_service_files_a_request_that_support_approves(
    page: Page, story: ConsoleServer
) -> None:
    log_in(page, story, story.admin_key)
    open_timeline(page)
    page.get_by_role("article").filter(has_text="Audit Committee").get_by_role(
        "link", name="Restore…"
    ).click()
    expect(
        page.get_by_text("Direct restore is not allowed for organisation admins here")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Restore", exact=True)).to_have_count(0)

    # The server refuses too, whatever the page offers.
    refused = page.request.post(
        f"{story.root}/restore",
        headers={"Origin": story.root},
        form={"room": story.facts["room"], "user": story.facts["ada"], "reason": "trying anyway"},
    )
    assert refused.status == 403
    assert "does not allow admins to restore directly" in refused.text()
    shot(page, story, "admin-restore-request")

    page.get_by_label("Note for support").fill(
        "Ada was removed by a bad sync; please bring back her history."
    )
    page.get_by_role("button", name="File a restore request").click()
    expect(page.get_by_role("heading", name=f"Restore request for {ADA}")).to_be_visible()
    expect(page.get_by_text("Waiting for platform support")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in(page, story, story.support_key)
    go(page, "Requests")
    page.get_by_role("link", name="Review").first.click()
    shot(page, story, "request-review")
    page.get_by_role("button", name="Approve: restore this one").click()
    expect(page.get_by_role("heading", name=re.compile("^Restored"))).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in(page, story, story.admin_key)
    go(page, "Requests")
    row = page.get_by_role("row").filter(has_text=ADA)
    expect(row.locator(".badge", has_text="approved")).to_be_visible()
    shot(page, story, "requests")


def test_drift_lists_the_mass_removal_and_its_batch_restore_explains_the_group_guard(
    page: Page, story: ConsoleServer
) -> None:
    log_in(page, story, story.support_key)
    go(page, "Drift")
    removal = page.locator("#mass_removals")
    expect(removal).to_contain_text("Finance Committee")
    expect(removal).to_contain_text("5 of 6 members removed")
    shot(page, story, "drift")
    removal.get_by_role("button", name="Preview").click()
    # The IdP still leaves them out of the group, so each restore would be refused, and says why.
    main = page.get_by_role("main")
    expect(main).to_contain_text("0 memberships would be restored, 5 skipped")
    expect(main).to_contain_text("is not in the group 'Finance Committee' that manages this room")

    # One of them, restored by hand: the preview refuses and names the group to fix first.
    go(page, "People")
    page.get_by_label("E-mail or userName").fill("fin0@northwind.example")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Fin0 Member").click()
    with page.expect_response(re.compile(r"/restore\?")) as refused:
        page.get_by_role("link", name="Restore…").click()
    assert refused.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text("This restore is not possible")
    expect(page.get_by_role("alert")).to_contain_text(
        "add them to 'Finance Committee' in the identity provider first"
    )
    expect(page.get_by_role("button", name="Restore", exact=True)).to_have_count(0)
    shot(page, story, "restore-refused")


def test_forms_from_another_site_and_visits_without_a_key_are_refused(
    page: Page, story: ConsoleServer
) -> None:
    page.goto("/drift")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdrift"))
    page.get_by_label("API key").fill("tnk_not-a-key")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("That key is not valid")
    shot(page, story, "login")
    log_in(page, story, story.admin_key)
    page.goto("/people?email=" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    expect(
        page.get_by_role("heading", name="0 identities known by “<script>alert(1)</script>”")
    ).to_be_visible()
    forged = page.request.post(
        f"{story.root}/settings",
        headers={"Origin": "http://evil.example"},
        form={
            "readd_policy": "reinstate",
            "reinstate_window_days": "5",
            "self_service_restore": "1",
        },
    )
    assert forged.status == 403
    assert "did not come from the console" in forged.text()

    # The same change from the console's own form goes through, and the page says so.
    page.goto("/")
    page.get_by_label("Reinstate window (days)").fill("30")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Organisation settings saved")
    expect(page.get_by_label("Reinstate window (days)")).to_have_value("30")
    expect(page.get_by_label(re.compile("^Self-service restore"))).not_to_be_checked()
