"""Organisations (tenants) and the settings that steer their rooms."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from tenure.domain.errors import InvalidInput


class ReaddPolicy(StrEnum):
    """What a person re-added to a group gets back."""

    REINSTATE = "reinstate"  # their most recent membership, if the IdP ended it recently
    FRESH = "fresh"  # always a new, empty membership


DEFAULT_REINSTATE_WINDOW_DAYS = 90
MAX_REINSTATE_WINDOW_DAYS = 3650


def slugify(name: str) -> str:
    """A URL-safe, lowercase slug for an organisation name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or "org"


def check_window(days: int) -> int:
    """A reinstate window must be a whole number of days in a sensible range."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidInput("reinstate_window_days must be a whole number of days")
    if not 0 <= days <= MAX_REINSTATE_WINDOW_DAYS:
        raise InvalidInput(
            f"reinstate_window_days must be between 0 and {MAX_REINSTATE_WINDOW_DAYS}"
        )
    return days


def check_policy(value: str) -> ReaddPolicy:
    try:
        return ReaddPolicy(value)
    except ValueError:
        raise InvalidInput("readd_policy must be 'reinstate' or 'fresh'") from None


@dataclass(slots=True)
class Organisation:
    """A customer of the portal; every other record belongs to exactly one."""

    id: str
    slug: str
    name: str
    readd_policy: ReaddPolicy = ReaddPolicy.REINSTATE
    reinstate_window_days: int = DEFAULT_REINSTATE_WINDOW_DAYS
    self_service_restore: bool = False

    def may_restore_directly(self, role: str) -> bool:
        """Support always may; an org admin only where the organisation allows self-service."""
        return role == "support" or self.self_service_restore

    def update_settings(
        self,
        *,
        readd_policy: str | None = None,
        reinstate_window_days: int | None = None,
        self_service_restore: bool | None = None,
    ) -> None:
        """Change the organisation's room policies, validating each value."""
        if readd_policy is not None:
            self.readd_policy = check_policy(readd_policy)
        if reinstate_window_days is not None:
            self.reinstate_window_days = check_window(reinstate_window_days)
        if self_service_restore is not None:
            if not isinstance(self_service_restore, bool):
                raise InvalidInput("self_service_restore must be true or false")
            self.self_service_restore = self_service_restore
