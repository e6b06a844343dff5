"""The notifications revision upgrades and downgrades cleanly on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, make_url, text

from app.db import Database
from app.dbmigrate import downgrade, upgrade
from tests.conftest import _postgres_admin_url

INITIAL = "742df9662c2f"
TABLES = {
    "notification",
    "notification_preference",
    "follow",
    "area_watch",
    "webhook",
    "push_subscription",
    "issue_feedback",
}


@pytest.fixture
def scratch(db_kind: str, tmp_path: Path) -> Iterator[Database]:
    """A database of its own: this test migrates up and down."""
    if db_kind == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'scratch.db'}")
        yield database
        database.dispose()
        return
    admin_url = make_url(_postgres_admin_url()).set(drivername="postgresql+psycopg")
    name = f"civicloop_test_{uuid.uuid4().hex[:12]}"
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


def tables(database: Database) -> set[str]:
    return set(inspect(database.engine).get_table_names())


def test_up_down_and_up_again(scratch: Database) -> None:
    upgrade(scratch.engine)
    assert tables(scratch) >= TABLES
    downgrade(scratch.engine, INITIAL)
    assert not TABLES & tables(scratch)
    assert "issue" in tables(scratch)
    upgrade(scratch.engine)
    assert tables(scratch) >= TABLES
