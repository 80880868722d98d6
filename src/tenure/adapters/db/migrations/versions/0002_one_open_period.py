"""one open period per membership

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("membership_periods", schema=None) as batch_op:
        batch_op.create_index(
            "uq_membership_periods_open",
            ["membership_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("membership_periods", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_membership_periods_open",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
