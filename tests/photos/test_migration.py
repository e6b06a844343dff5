"""The photos migration builds the same schema on both databases and downgrades cleanly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, make_url, text

from app.db import Database
from app.dbmigrate import downgrade, pending_migrations, upgrade
from tests.conftest import _postgres_admin_url

INITIAL = "742df9662c2f"


@pytest.fixture
def scratch(db_kind: str, tmp_path: Path) -> Iterator[Database]:
    """An empty database of its own, not the suite's."""
    if db_kind == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'scratch.db'}")
        yield database
        database.dispose()
        return
    admin_url = make_url(_postgres_admin_url()).set(drivername="postgresql+psycopg")
    name = f"civicloop_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(admin_url.set(database=name).render_as_string(hide_password=False))
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_photos_migrate_down_and_up_again(scratch: Database) -> None:
    upgrade(scratch.engine)
    assert {"photo", "photo_file"} <= set(inspect(scratch.engine).get_table_names())

    downgrade(scratch.engine, INITIAL)
    schema = inspect(scratch.engine)
    assert not {"photo", "photo_file"} & set(schema.get_table_names())
    assert "photo_id" not in {c["name"] for c in schema.get_columns("issue_event")}

    upgrade(scratch.engine)
    assert pending_migrations(scratch.engine) == []
    with scratch.engine.connect() as connection:
        constraint = connection.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'ck_issue_event_event_action'"
                if connection.dialect.name == "postgresql"
                else "SELECT sql FROM sqlite_master WHERE name = 'issue_event'"
            )
        ).scalar_one()
    assert "photo_hidden" in constraint
