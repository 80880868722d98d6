"""Tenants and credentials: organisations, SCIM tokens and admin API keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from tenure.adapters.db.uow import PlatformUnitOfWork
from tenure.domain.audit import Actor, AuditAction, AuditEntry
from tenure.domain.clock import utcnow
from tenure.domain.credentials import secret_hash
from tenure.domain.errors import Conflict, InvalidInput, NotFound
from tenure.domain.ids import new_id
from tenure.domain.organisation import Organisation, slugify

API_KEY_ROLES = ("org-admin", "support")


@dataclass(frozen=True, slots=True)
class Issued:
    """A credential whose secret is shown once; only its hash is stored."""

    id: str
    secret: str


def _org(uow: PlatformUnitOfWork, ref: str) -> Organisation:
    org = uow.platform.org(ref)
    if org is None:
        raise NotFound(f"no organisation with id or slug {ref!r}")
    return org


def create_org(
    uow: PlatformUnitOfWork, name: str, actor: Actor, slug: str | None = None
) -> Organisation:
    name = name.strip()
    if not name:
        raise InvalidInput("an organisation needs a name")
    with uow:
        base = slugify(slug or name)
        if slug and uow.platform.slug_taken(base):
            raise Conflict(f"slug {base!r} is taken")
        candidate, n = base, 1
        while uow.platform.slug_taken(candidate):
            n += 1
            candidate = f"{base}-{n}"
        org = Organisation(id=new_id(), slug=candidate, name=name)
        now = utcnow()
        uow.platform.add_org(org, now)
        uow.tenant(org.id, actor).audit.add(
            AuditEntry(
                AuditAction.CLI_ORGANISATION_CREATE,
                actor,
                "Organisation",
                org.id,
                None,
                now,
                {"name": name, "slug": candidate},
            )
        )
        uow.commit()
    return org


def list_orgs(uow: PlatformUnitOfWork) -> list[Organisation]:
    with uow:
        return uow.platform.orgs()


def find_org(uow: PlatformUnitOfWork, ref: str) -> Organisation:
    with uow:
        return _org(uow, ref)


def create_token(uow: PlatformUnitOfWork, org_ref: str, label: str, actor: Actor) -> Issued:
    secret = "tnr_" + secrets.token_urlsafe(32)
    with uow:
        org = _org(uow, org_ref)
        token_id = new_id()
        now = utcnow()
        uow.platform.add_token(token_id, org.id, label, secret_hash(secret), now)
        uow.tenant(org.id, actor).audit.add(
            AuditEntry(
                AuditAction.CLI_TOKEN_CREATE,
                actor,
                "ScimToken",
                token_id,
                None,
                now,
                {"label": label},
            )
        )
        uow.commit()
    return Issued(token_id, secret)


def list_tokens(uow: PlatformUnitOfWork, org_ref: str) -> list[dict[str, Any]]:
    with uow:
        return uow.platform.tokens(_org(uow, org_ref).id)


def revoke_token(uow: PlatformUnitOfWork, token_id: str, actor: Actor) -> None:
    with uow:
        token = uow.platform.token(token_id)
        if token is None:
            raise NotFound(f"no token {token_id}")
        now = utcnow()
        uow.platform.revoke_token(token_id, now)
        uow.tenant(token["org_id"], actor).audit.add(
            AuditEntry(AuditAction.CLI_TOKEN_REVOKE, actor, "ScimToken", token_id, None, now, {})
        )
        uow.commit()


def create_api_key(
    uow: PlatformUnitOfWork, org_ref: str | None, role: str, label: str, actor: Actor
) -> Issued:
    if role not in API_KEY_ROLES:
        raise InvalidInput(f"role must be one of: {', '.join(API_KEY_ROLES)}")
    if role == "org-admin" and not org_ref:
        raise InvalidInput("an org-admin key belongs to one organisation: name it")
    if role == "support" and org_ref:
        raise InvalidInput("a support key serves every organisation: do not name one")
    secret = "tnk_" + secrets.token_urlsafe(32)
    with uow:
        org_id = _org(uow, org_ref).id if org_ref else None
        key_id = new_id()
        uow.platform.add_api_key(key_id, org_id, role, label, secret_hash(secret), utcnow())
        if org_id:
            uow.tenant(org_id, actor).audit.add(
                AuditEntry(
                    AuditAction.CLI_APIKEY_CREATE,
                    actor,
                    "ApiKey",
                    key_id,
                    None,
                    utcnow(),
                    {"role": role},
                )
            )
        uow.commit()
    return Issued(key_id, secret)
