"""The Alembic history and the ORM models describe the same schema on both databases; the
history runs down to nothing and back up to the same schema; /readyz tells whether it ran."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.sql import ClauseElement

from app.db import Database
from app.dbmigrate import (
    UNMANAGED_TABLE_PREFIXES,
    comparison_options,
    downgrade,
    pending_migrations,
    upgrade,
)
from app.models import Base, Role
from tests.factories import IN_WEST, bearer, make_agency, make_category, make_user
from tests.platform.conftest import NewDatabase, client_for, settings_for


def drift(engine: Engine) -> list[Any]:
    """What autogenerate would write: the differences between the database and the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts=comparison_options(connection.dialect.name)
        )
        diffs: list[Any] = compare_metadata(context, Base.metadata)
        return diffs


def _comparable(items: list[Any]) -> list[Any]:
    """Reflected items with SQL expressions (partial-index predicates) as their text."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return str(value) if isinstance(value, ClauseElement) else value

    return sorted((plain(item) for item in items), key=repr)


def schema_snapshot(engine: Engine) -> dict[str, Any]:
    """Everything the migrations define, in a comparable form."""
    inspector = inspect(engine)
    snapshot: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        snapshot[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table),
            "foreign_keys": _comparable(inspector.get_foreign_keys(table)),
            "indexes": _comparable(inspector.get_indexes(table)),
            "unique": _comparable(inspector.get_unique_constraints(table)),
            "checks": _comparable(inspector.get_check_constraints(table)),
        }
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # Triggers and the R*Tree are invisible to the inspector. Plain tables are compared
            # through it above: the text of a table that Alembic rebuilt in batch mode lists the
            # same constraints in an arbitrary order.
            rows = connection.execute(
                text(
                    "SELECT type, name, sql FROM sqlite_master WHERE NOT (type = 'table' "
                    "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%')"
                )
            )
        else:
            rows = connection.execute(
                text(
                    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = "
                    "current_schema() UNION ALL SELECT 'extension', extname, extversion "
                    "FROM pg_extension"
                )
            )
        snapshot["ddl"] = sorted(tuple(row) for row in rows)
    return snapshot


def managed_tables(engine: Engine) -> list[str]:
    return [
        t
        for t in inspect(engine).get_table_names()
        if not t.startswith(UNMANAGED_TABLE_PREFIXES) and t != "alembic_version"
    ]


@pytest.fixture
def empty_database(new_database: NewDatabase) -> Iterator[Database]:
    database = Database(new_database())
    yield database
    database.dispose()


def test_migrations_build_exactly_the_models(database: Database) -> None:
    assert pending_migrations(database.engine) == []
    assert drift(database.engine) == []


def test_the_drift_check_sees_a_schema_that_differs(empty_database: Database) -> None:
    upgrade(empty_database.engine)
    with empty_database.engine.begin() as connection:
        connection.execute(text("ALTER TABLE issue ADD COLUMN stray_note VARCHAR(20)"))
        connection.execute(text("DROP INDEX ix_category_group"))
    found = {(d[0], getattr(d[-1], "name", None)) for d in drift(empty_database.engine)}
    assert ("remove_column", "stray_note") in found
    assert ("add_index", "ix_category_group") in found


async def test_downgrade_to_base_and_upgrade_again_round_trips(
    empty_database: Database, tmp_path: Path
) -> None:
    engine = empty_database.engine
    upgrade(engine)
    at_head = schema_snapshot(engine)

    downgrade(engine, "base")
    assert managed_tables(engine) == []
    assert pending_migrations(engine) != []

    upgrade(engine)
    assert schema_snapshot(engine) == at_head
    assert drift(engine) == []

    # The rebuilt schema works: report, route, find nearby, see it in the queue.
    settings = settings_for(engine.url.render_as_string(hide_password=False), tmp_path)
    with empty_database.session(write=True) as session:
        light = make_category(session, "streetlight")
        west = make_agency(session, categories=[light])
        agent = make_user(session, Role.agent, agency=west)
        agent_headers = bearer(settings, agent)
        west_id = west.id
    async with client_for(empty_database, settings) as client:
        created = await client.post(
            "/api/v1/issues",
            headers={"X-Device-Id": "device-0123456789abcdef"},
            json={
                "category": "streetlight",
                "title": "Lamp out",
                "latitude": IN_WEST[1],
                "longitude": IN_WEST[0],
            },
        )
        assert created.status_code == 201, created.text
        issue_id = created.json()["id"]
        nearby = await client.get(
            "/api/v1/issues",
            params={"lat": IN_WEST[1], "lon": IN_WEST[0] + 0.001, "radius": 500},
        )
        assert [i["id"] for i in nearby.json()["items"]] == [issue_id]
        queue = await client.get(f"/api/v1/agencies/{west_id}/queue", headers=agent_headers)
        assert [i["id"] for i in queue.json()["items"]] == [issue_id]
        assert (await client.get("/readyz")).status_code == 200


async def test_health_answers_while_readiness_waits_for_migrations(
    empty_database: Database, tmp_path: Path
) -> None:
    settings = settings_for(
        empty_database.engine.url.render_as_string(hide_password=False), tmp_path
    )
    async with client_for(empty_database, settings) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}

        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.headers["content-type"] == "application/problem+json"
        problem = not_ready.json()
        assert problem["status"] == 503
        assert problem["type"].endswith("/problems/not-ready")
        assert "civicloop migrate" in problem["detail"]
        assert problem["pending"] == pending_migrations(empty_database.engine)

        upgrade(empty_database.engine)
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ok", "database": empty_database.engine.dialect.name}

        # One step down is pending work again.
        downgrade(empty_database.engine, "-1")
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200


async def test_readiness_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Nothing listens on port 1: the probe must say so, not hang or crash.
    url = "postgresql://civicloop@127.0.0.1:1/civicloop?connect_timeout=2"
    database = Database(url)
    try:
        async with client_for(database, settings_for(url, tmp_path)) as client:
            answer = await client.get("/readyz")
            assert (await client.get("/healthz")).status_code == 200
    finally:
        database.dispose()
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "unreachable" in answer.json()["detail"]
