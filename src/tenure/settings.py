"""Settings read from the environment, once, by whoever starts the process."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class SettingsError(ValueError):
    """A setting in the environment has a value Tenure cannot use."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service needs to start; see the README's configuration reference."""

    database_url: str = "sqlite:///var/tenure.db"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # RFC 7644 §3.7: limits a client reads from /ServiceProviderConfig before it sends a Bulk.
    max_body_bytes: int = 1_048_576
    bulk_max_operations: int = 1000
    max_results: int = 1000
    default_page_size: int = 100
    base_path: str = "/scim/v2"
    db_pool_size: int = 8
    # A group PATCH answers 200 with every member up to this size, 204 above (docs/decisions/0003).
    group_patch_members_max: int = 1000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read TENURE_* variables, falling back to the defaults above."""
        env = os.environ if env is None else env
        d = cls()
        settings = cls(
            database_url=env.get("TENURE_DATABASE_URL") or d.database_url,
            host=env.get("TENURE_HOST") or d.host,
            port=_int(env, "TENURE_PORT", d.port),
            workers=_int(env, "TENURE_WORKERS", d.workers),
            max_body_bytes=_int(env, "TENURE_MAX_BODY_BYTES", d.max_body_bytes),
            bulk_max_operations=_int(env, "TENURE_BULK_MAX_OPERATIONS", d.bulk_max_operations),
            max_results=_int(env, "TENURE_MAX_RESULTS", d.max_results),
            default_page_size=_int(env, "TENURE_PAGE_SIZE", d.default_page_size),
            db_pool_size=_int(env, "TENURE_DB_POOL_SIZE", d.db_pool_size),
            group_patch_members_max=_int(
                env, "TENURE_GROUP_PATCH_MEMBERS_MAX", d.group_patch_members_max
            ),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse settings that would make the service unsafe or unusable."""
        if not self.database_url.startswith(("sqlite://", "postgresql")):
            raise SettingsError(
                "TENURE_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL"
            )
        if not 0 < self.port < 65536:
            raise SettingsError("TENURE_PORT must be between 1 and 65535")
        if self.workers < 1:
            raise SettingsError("TENURE_WORKERS must be at least 1")
        if self.max_body_bytes < 1024:
            raise SettingsError("TENURE_MAX_BODY_BYTES must be at least 1024")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
