"""Alembic environment: one migrations folder for SQLite and PostgreSQL + PostGIS."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from app.config import get_settings
from app.db import create_db_engine
from app.models import Base

config = context.config
target_metadata = Base.metadata

# Tables the database owns or our spatial code maintains, never the ORM: PostGIS's catalogue,
# and SQLite's R*Tree virtual table with its shadow tables.
UNMANAGED_TABLE_PREFIXES = ("spatial_ref_sys", "issue_location_rtree")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name and name.startswith(UNMANAGED_TABLE_PREFIXES):
        return False
    if type_ == "index" and not reflected:
        # Indexes declared with .ddl_if(dialect=...) exist only on that dialect.
        ddl_if = getattr(obj, "_ddl_if", None)
        dialect = context.get_context().dialect.name
        if ddl_if is not None and ddl_if.dialect is not None and ddl_if.dialect != dialect:
            return False
    return True


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = create_db_engine(get_settings().effective_database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them against a database")
run_migrations_online()
