"""Turning HTML form values into the plain values the services take."""

from __future__ import annotations

from typing import Any

from tenure.domain.errors import InvalidInput

INHERIT = "inherit"


def whole_number(value: str, name: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number of days") from None


def optional_days(value: str, name: str) -> int | None:
    """Blank means 'inherit the organisation's value'."""
    return None if not value.strip() else whole_number(value, name)


def policy_choice(value: str) -> str | None:
    """``inherit`` (or blank) becomes None; anything else is left to the domain to check."""
    return None if value in ("", INHERIT) else value


def checkbox(values: list[str]) -> bool:
    """A checkbox paired with a hidden "0": checked sends ["0", "1"]."""
    return "1" in values


def clean(text: str) -> str:
    return text.strip()


def room_changes(name: str, readd_policy: str, window: str, default_role: str) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "readd_policy": policy_choice(readd_policy),
        "reinstate_window_days": optional_days(window, "the reinstate window"),
    }
    if name.strip():
        changes["name"] = name.strip()
    if default_role:
        changes["default_role"] = default_role
    return changes
