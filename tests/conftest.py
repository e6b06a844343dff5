"""Test fixtures: a real database (SQLite or PostGIS, by --db), the app over HTTP, factories.

Each test run gets a fresh database built by `alembic upgrade head`; each test starts empty
(tables are emptied after every test), and the app commits for real, as in production.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.dbmigrate import upgrade
from app.main import create_app
from app.models import Base

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgis"),
        default=os.environ.get("CIVICLOOP_TEST_DB", "sqlite"),
        help="database to run the suite against",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"civicloop database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.config.getoption("--db")
    return kind


def _postgres_admin_url() -> str:
    return os.environ.get("CIVICLOOP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture(scope="session")
def database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'civicloop.db'}"
        return
    # A database of our own per run: PostGIS must really be there, or the run fails (no skip).
    admin_url = make_url(_postgres_admin_url()).set(drivername="postgresql+psycopg")
    name = f"civicloop_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    database.dispose()


def empty_all_tables(database: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            quoted = ", ".join(f'"{t}"' for t in tables)
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for table in [*tables, "issue_location_rtree"]:
                connection.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture(autouse=True)
def _empty_database_after_test(database: Database) -> Iterator[None]:
    yield
    empty_all_tables(database)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        data_dir=tmp_path,
        secret_key=TEST_SECRET,
        # A live feed stream ends soon, so a test reading one over ASGI gets its whole answer.
        feed_max_seconds=0.2,
        feed_poll_seconds=0.05,
        _env_file=None,
    )


@pytest.fixture
def app(settings: Settings, database: Database) -> Iterator[FastAPI]:
    app = create_app(settings, database)
    yield app
    # What the lifespan does when a server stops (httpx's ASGI transport runs no lifespan).
    app.state.photo_workers.shutdown(wait=True)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
def db(database: Database) -> Iterator[Session]:
    """A session for arranging data (factories commit) and checking what was stored."""
    with database.session(write=False) as session:
        yield session
