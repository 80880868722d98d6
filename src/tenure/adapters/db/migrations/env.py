"""Alembic environment: runs Tenure's migrations against the configured database."""

from __future__ import annotations

from alembic import context

from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.tables import metadata

config = context.config


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
