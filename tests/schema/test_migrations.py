"""The migrations build the schema the models declare, and this change downgrades cleanly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, make_url, text

from app.db import Database
from app.dbmigrate import alembic_config, downgrade, upgrade
from tests.conftest import _postgres_admin_url

BEFORE_OPEN311 = "742df9662c2f"


@pytest.fixture
def scratch_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own: the suite's shared one must stay at head."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('migrations') / 'scratch.db'}"
        return
    admin_url = make_url(_postgres_admin_url()).set(drivername="postgresql+psycopg")
    name = f"civicloop_test_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _check(database: Database) -> None:
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)  # raises if the models and the database differ


def test_upgrade_matches_the_models_and_downgrade_restores_the_previous_schema(
    scratch_url: str,
) -> None:
    database = Database(scratch_url, pool_size=1)
    try:
        upgrade(database.engine)
        _check(database)
        downgrade(database.engine, BEFORE_OPEN311)
        tables = set(inspect(database.engine).get_table_names())
        assert not {"category_attribute", "district", "open311_submission"} & tables
        columns = {c["name"] for c in inspect(database.engine).get_columns("issue")}
        assert not {"district_id", "attributes"} & columns
        upgrade(database.engine)
        _check(database)
    finally:
        database.dispose()
