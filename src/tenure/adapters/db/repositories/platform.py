"""Organisations, SCIM tokens and API keys: the only rows not scoped to one organisation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from tenure.adapters.db.rows import to_org
from tenure.adapters.db.tables import api_keys, organisations, scim_tokens
from tenure.domain.organisation import Organisation


class PlatformRepository:
    """Tenants and credentials; credentials are found by the hash of their secret."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_org(self, org: Organisation, at: datetime) -> None:
        self.conn.execute(
            insert(organisations).values(
                id=org.id,
                slug=org.slug,
                name=org.name,
                readd_policy=org.readd_policy.value,
                reinstate_window_days=org.reinstate_window_days,
                self_service_restore=org.self_service_restore,
                created_at=at,
            )
        )

    def save_org(self, org: Organisation) -> None:
        self.conn.execute(
            update(organisations)
            .where(organisations.c.id == org.id)
            .values(
                name=org.name,
                readd_policy=org.readd_policy.value,
                reinstate_window_days=org.reinstate_window_days,
                self_service_restore=org.self_service_restore,
            )
        )

    def org(self, ref: str) -> Organisation | None:
        """An organisation by id or slug."""
        row = self.conn.execute(
            select(organisations).where(or_(organisations.c.id == ref, organisations.c.slug == ref))
        ).first()
        return to_org(row) if row else None

    def slug_taken(self, slug: str) -> bool:
        return (
            self.conn.execute(
                select(organisations.c.id).where(organisations.c.slug == slug)
            ).first()
            is not None
        )

    def orgs(self) -> list[Organisation]:
        return [
            to_org(r)
            for r in self.conn.execute(select(organisations).order_by(organisations.c.created_at))
        ]

    def add_token(
        self, token_id: str, org_id: str, label: str, secret_hash: str, at: datetime
    ) -> None:
        self.conn.execute(
            insert(scim_tokens).values(
                id=token_id, org_id=org_id, label=label, secret_hash=secret_hash, created_at=at
            )
        )

    def tokens(self, org_id: str) -> list[dict[str, Any]]:
        stmt = select(
            scim_tokens.c.id,
            scim_tokens.c.label,
            scim_tokens.c.created_at,
            scim_tokens.c.revoked_at,
        ).where(scim_tokens.c.org_id == org_id)
        return [
            dict(r._mapping) for r in self.conn.execute(stmt.order_by(scim_tokens.c.created_at))
        ]

    def token(self, token_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(scim_tokens).where(scim_tokens.c.id == token_id)).first()
        return dict(row._mapping) if row else None

    def revoke_token(self, token_id: str, at: datetime) -> None:
        self.conn.execute(
            update(scim_tokens).where(scim_tokens.c.id == token_id).values(revoked_at=at)
        )

    def token_by_hash(self, secret_hash: str) -> tuple[str, str] | None:
        """(token id, org id) of a live token."""
        row = self.conn.execute(
            select(scim_tokens.c.id, scim_tokens.c.org_id).where(
                scim_tokens.c.secret_hash == secret_hash, scim_tokens.c.revoked_at.is_(None)
            )
        ).first()
        return (row.id, row.org_id) if row else None

    def add_api_key(
        self, key_id: str, org_id: str | None, role: str, label: str, secret_hash: str, at: datetime
    ) -> None:
        self.conn.execute(
            insert(api_keys).values(
                id=key_id,
                org_id=org_id,
                role=role,
                label=label,
                secret_hash=secret_hash,
                created_at=at,
            )
        )

    def api_key_by_hash(self, secret_hash: str) -> tuple[str, str | None, str] | None:
        """(key id, org id or None, role) of a live API key."""
        row = self.conn.execute(
            select(api_keys.c.id, api_keys.c.org_id, api_keys.c.role).where(
                api_keys.c.secret_hash == secret_hash, api_keys.c.revoked_at.is_(None)
            )
        ).first()
        return (row.id, row.org_id, row.role) if row else None
