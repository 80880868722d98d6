"""The ``tenure`` command: serve, migrate, and manage organisations and credentials."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from tenure import cli_support
from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.uow import PlatformUnitOfWork
from tenure.domain.audit import CLI
from tenure.domain.errors import TenureError
from tenure.services import platform
from tenure.settings import Settings, SettingsError

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _engine() -> Engine:
    return make_engine(_settings().database_url, pooled=False)


def _uow(write: bool = True) -> PlatformUnitOfWork:
    return PlatformUnitOfWork(_engine(), write=write)


def _do(fn: Callable[[], T]) -> T:
    """Run a use case; a domain error becomes a one-line message and exit status 1."""
    try:
        return fn()
    except TenureError as error:
        raise click.ClickException(error.detail) from None


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=None, default=str))


@click.group()
def main() -> None:
    """Tenure: board rooms provisioned over SCIM 2.0, with history that is never lost."""


@main.command()
@click.option("--host", default=None, help="Address to bind (TENURE_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (TENURE_PORT, default 8000).")
@click.option("--workers", type=int, default=None, help="Processes (TENURE_WORKERS, default 1).")
@click.option("--access-log/--no-access-log", default=False, help="Log every request.")
def serve(host: str | None, port: int | None, workers: int | None, access_log: bool) -> None:
    """Serve SCIM, the admin API and the console."""
    if host:
        os.environ["TENURE_HOST"] = host
    if port:
        os.environ["TENURE_PORT"] = str(port)
    if workers:
        os.environ["TENURE_WORKERS"] = str(workers)
    settings = _settings()
    click.echo(
        f"Tenure on http://{settings.host}:{settings.port}  (SCIM base {settings.base_path}, "
        f"{settings.workers} worker{'s' if settings.workers > 1 else ''}, "
        f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'})"
    )
    # A fresh interpreter serves: this one has imported the whole application for the other
    # commands, and with several workers it would stay behind as their supervisor, holding all
    # of it (63 MB) to do nothing but watch them.
    args = ["--host", settings.host, "--port", str(settings.port)]
    args += ["--workers", str(settings.workers), "--loop", "uvloop", "--http", "httptools"]
    args += ["--log-level", "info" if access_log else "warning", "--no-server-header"]
    args += ["--access-log" if access_log else "--no-access-log"]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "uvicorn", "--factory", _APP, *args])


_APP = "tenure.web.asgi:build"


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to TENURE_DATABASE_URL."""
    from tenure.adapters.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    click.echo("database is up to date", err=True)


@main.group()
def org() -> None:
    """Organisations."""


@org.command("create")
@click.argument("name")
@click.option("--slug", default=None)
@click.option("--json", "as_json", is_flag=True)
def org_create(name: str, slug: str | None, as_json: bool) -> None:
    """Create an organisation."""
    created = _do(lambda: platform.create_org(_uow(), name, CLI, slug))
    if as_json:
        _print_json({"id": created.id, "slug": created.slug, "name": created.name})
    else:
        click.echo(f"created organisation {created.name} (slug {created.slug}, id {created.id})")


@org.command("list")
@click.option("--json", "as_json", is_flag=True)
def org_list(as_json: bool) -> None:
    """List organisations."""
    orgs = _do(lambda: platform.list_orgs(_uow(write=False)))
    rows = [
        {
            "id": o.id,
            "slug": o.slug,
            "name": o.name,
            "readd_policy": o.readd_policy.value,
            "reinstate_window_days": o.reinstate_window_days,
        }
        for o in orgs
    ]
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        click.echo(f"{r['slug']:<24} {r['id']}  {r['name']}")


@main.group()
def token() -> None:
    """SCIM bearer tokens."""


@token.command("create")
@click.argument("org_ref", metavar="ORG")
@click.option("--label", default="")
@click.option("--json", "as_json", is_flag=True)
def token_create(org_ref: str, label: str, as_json: bool) -> None:
    """Issue a SCIM token for ORG (id or slug); the secret is shown once."""
    issued = _do(lambda: platform.create_token(_uow(), org_ref, label, CLI))
    if as_json:
        _print_json({"id": issued.id, "token": issued.secret})
    else:
        click.echo(f"token {issued.id}\n{issued.secret}\n(store it now: it is not shown again)")


@token.command("list")
@click.argument("org_ref", metavar="ORG")
@click.option("--json", "as_json", is_flag=True)
def token_list(org_ref: str, as_json: bool) -> None:
    """List ORG's tokens (never their secrets)."""
    tokens = _do(lambda: platform.list_tokens(_uow(write=False), org_ref))
    if as_json:
        _print_json(tokens)
        return
    for t in tokens:
        state = f"revoked {t['revoked_at']}" if t["revoked_at"] else "active"
        click.echo(f"{t['id']}  {state:<10}  {t['label']}")


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke a token; requests with it fail from then on."""
    _do(lambda: platform.revoke_token(_uow(), token_id, CLI))
    click.echo(f"revoked {token_id}")


@main.group()
def apikey() -> None:
    """Admin API keys."""


@apikey.command("create")
@click.argument("org_ref", metavar="[ORG]", required=False)
@click.option("--role", type=click.Choice(platform.API_KEY_ROLES), required=True)
@click.option("--label", default="")
@click.option("--json", "as_json", is_flag=True)
def apikey_create(org_ref: str | None, role: str, label: str, as_json: bool) -> None:
    """Issue an admin API key: org-admin for ORG, or support for every organisation."""
    issued = _do(lambda: platform.create_api_key(_uow(), org_ref, role, label, CLI))
    if as_json:
        _print_json({"id": issued.id, "key": issued.secret})
    else:
        click.echo(
            f"api key {issued.id} ({role})\n{issued.secret}\n(store it now: it is not shown again)"
        )


@main.command()
def demo() -> None:
    """On an empty database: a demo organisation, a SCIM token and a support key."""
    orgs = _do(lambda: platform.list_orgs(_uow(write=False)))
    settings = _settings()
    if orgs:
        click.echo(
            f"Database has {len(orgs)} organisation(s); `tenure token create {orgs[0].slug}` "
            "issues another SCIM token."
        )
        return
    created = _do(lambda: platform.create_org(_uow(), "Demo Board", CLI, "demo"))
    issued = _do(lambda: platform.create_token(_uow(), created.id, "demo", CLI))
    admin = _do(lambda: platform.create_api_key(_uow(), created.id, "org-admin", "demo", CLI))
    support = _do(lambda: platform.create_api_key(_uow(), None, "support", "demo", CLI))
    base = f"http://{settings.host}:{settings.port}"
    click.echo(
        "\n".join(
            [
                "Demo organisation created.",
                f"  SCIM base URL : {base}{settings.base_path}",
                f"  SCIM token    : {issued.secret}",
                f"  Org admin key : {admin.secret}",
                f"  Support key   : {support.secret}",
                f"  Console       : {base}/",
                "These secrets are shown once.",
            ]
        )
    )


def _org_id(ref: str) -> str:
    return _do(lambda: platform.find_org(_uow(write=False), ref)).id


cli_support.register(main, _engine, _org_id, _do)


def run() -> None:  # pragma: no cover - console entry point
    main(prog_name="tenure")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
