"""The ``tenure`` command, as an operator uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from tenure.cli import main
from tests.conftest import Tenant
from tests.integration.story import board


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TENURE_DATABASE_URL", database_url)
    return CliRunner()


def test_org_and_token_commands_print_json_and_the_token_works(
    cli: CliRunner, client: TestClient
) -> None:
    org = json.loads(cli.invoke(main, ["org", "create", "Harbour Trust", "--json"]).output)
    assert set(org) == {"id", "slug", "name"} and org["name"] == "Harbour Trust"
    token = json.loads(
        cli.invoke(main, ["token", "create", org["slug"], "--label", "entra", "--json"]).output
    )
    assert set(token) == {"id", "token"}
    ok = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token['token']}"})
    assert ok.status_code == 200
    listed = cli.invoke(main, ["token", "list", org["id"]]).output
    assert token["id"] in listed and token["token"] not in listed
    spare = json.loads(cli.invoke(main, ["token", "create", org["slug"], "--json"]).output)
    assert cli.invoke(main, ["token", "revoke", spare["id"]]).exit_code == 0
    assert (
        client.get(
            "/scim/v2/Users", headers={"Authorization": f"Bearer {spare['token']}"}
        ).status_code
        == 401
    )
    assert org["slug"] in cli.invoke(main, ["org", "list"]).output


def test_unknown_organisation_is_a_clear_error_not_a_traceback(cli: CliRunner) -> None:
    result = cli.invoke(main, ["token", "create", "no-such-org"])
    assert result.exit_code == 1
    assert "no organisation" in result.output and "Traceback" not in result.output


def test_apikey_create_prints_a_key_for_the_admin_api(
    cli: CliRunner, client: TestClient, tenant: Tenant
) -> None:
    key = json.loads(
        cli.invoke(main, ["apikey", "create", tenant.slug, "--role", "org-admin", "--json"]).output
    )
    assert (
        client.get(
            "/api/v1/organisation", headers={"Authorization": f"Bearer {key['key']}"}
        ).json()["id"]
        == tenant.org_id
    )
    support = json.loads(
        cli.invoke(main, ["apikey", "create", "--role", "support", "--json"]).output
    )
    r = client.get(
        "/api/v1/organisation",
        params={"org": tenant.slug},
        headers={"Authorization": f"Bearer {support['key']}"},
    )
    assert r.json()["id"] == tenant.org_id


def test_restore_and_timeline_from_the_command_line(
    cli: CliRunner, client: TestClient, tenant: Tenant
) -> None:
    b = board(client, tenant, "Remuneration")
    b.settings(readd_policy="fresh")
    jo = b.user("jo@example.com")
    b.add(jo)
    old = b.active(jo)
    b.give_history(old["id"])  # type: ignore[index]
    b.remove(jo)
    b.add(jo)
    plan = cli.invoke(
        main,
        [
            "restore",
            tenant.slug,
            "--email",
            "jo@example.com",
            "--room",
            "Remuneration",
            "--dry-run",
        ],
    )
    assert plan.exit_code == 0, plan.output
    assert old["id"] in plan.output and "Nothing changed" in plan.output  # type: ignore[index]
    done = cli.invoke(
        main,
        [
            "restore",
            tenant.slug,
            "--email",
            "jo@example.com",
            "--room",
            "Remuneration",
            "--reason",
            "ticket 12",
            "--json",
        ],
    )
    assert json.loads(done.output)["reactivated"] == old["id"]  # type: ignore[index]
    timeline = cli.invoke(main, ["memberships", tenant.slug, "--email", "jo@example.com"]).output
    assert "restored" in timeline and "superseded_by_restore" in timeline


def test_seed_history_gives_a_membership_that_many_items(
    cli: CliRunner, client: TestClient, tenant: Tenant
) -> None:
    b = board(client, tenant, "Seeded")
    ko = b.user("ko")
    b.add(ko)
    membership = b.active(ko)["id"]  # type: ignore[index]
    out = cli.invoke(
        main, ["seed-history", tenant.slug, "--membership", membership, "--items", "30"]
    )
    assert out.exit_code == 0, out.output
    assert sum(json.loads(out.output).values()) == 30
    assert sum(b.active(ko)["history"].values()) == 30  # type: ignore[index]
