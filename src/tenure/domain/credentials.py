"""Credential secrets are stored only as hashes."""

from __future__ import annotations

import hashlib


def secret_hash(secret: str) -> str:
    """Tokens are long random strings, so a fast hash is enough (no dictionary to guess from)."""
    return hashlib.sha256(secret.encode()).hexdigest()
