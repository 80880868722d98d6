"""The admin API under /api/v1 (JSON, API keys)."""
