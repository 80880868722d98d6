"""What every tenant-scoped repository shares: a connection and the organisation it serves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.sql.elements import ColumnElement


class TenantRepository:
    """Base of repositories scoped to one organisation by construction."""

    def __init__(self, conn: Connection, org_id: str) -> None:
        self.conn = conn
        self.org_id = org_id

    def scoped(self, table: Table) -> ColumnElement[bool]:
        """The tenant filter for ``table``; every query of a repository starts from it."""
        return table.c.org_id == self.org_id

    def _lock(self, stmt: Any) -> Any:
        # SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL locks the rows.
        if self.conn.dialect.name == "postgresql":
            return stmt.with_for_update()
        return stmt
