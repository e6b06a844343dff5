"""Test fixtures: a real database (SQLite or PostGIS, by --db), the app over HTTP, factories.

Each test process (each pytest-xdist worker) gets a fresh database of its own: a copy of the
run's template, built by `alembic upgrade head` once per run (tests/databases.py). Each test
starts empty (the tables it filled are emptied after it), and the app commits for real, as in
production: workers and servers in other processes see the data.
An app is built once per distinct Settings and given fresh state (`attach_state`) for each test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.main import attach_state, create_app
from app.models import Base
from tests.databases import (
    drop_postgres_database,
    new_run_id,
    postgres_admin,
    postgres_database,
    remove_template,
    sqlite_database,
)

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


# Tests that run for many seconds each (real processes, fresh installs, generated requests),
# heaviest first. They start first, so that no worker is left running one alone at the end:
# `make test` hands them out in turn, then one at a time as workers free up (`--dist load`;
# not loadgroup or loadscope, which key work by test id and so run the schemathesis test, one id
# for a hundred operations, only once).
LONG_RUNNING = (
    "tests/platform/test_production_install.py",
    "tests/security/test_no_server_errors.py",
    "tests/platform/test_cli.py",
    "tests/notifications/test_faults.py",
    "tests/work/test_feed_server.py",
    "tests/platform/",
    "tests/faults/",
    "tests/open311/test_real_client.py",
)


def _start_rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    for rank, prefix in enumerate(LONG_RUNNING):
        if path.startswith(prefix):
            return rank
    return len(LONG_RUNNING)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_start_rank)  # stable: each module keeps its order


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.config.getoption("--db")
    return kind


def _postgres_admin_url() -> str:
    return os.environ.get("CIVICLOOP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


RUN_ID = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    # The process that starts the run names it; pytest-xdist's workers are told the name.
    workerinput = getattr(config, "workerinput", None)
    config.stash[RUN_ID] = workerinput["civicloop_run"] if workerinput else new_run_id()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput["civicloop_run"] = node.config.stash[RUN_ID]


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and RUN_ID in config.stash:
        remove_template(
            config.stash[RUN_ID], config.getoption("--db"), postgres_admin(_postgres_admin_url())
        )


@pytest.fixture(scope="session")
def database_url(
    db_kind: str, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[str]:
    """A migrated database of this process's own (a copy of the run's template)."""
    run = pytestconfig.stash[RUN_ID]
    if db_kind == "sqlite":
        yield sqlite_database(run, tmp_path_factory.mktemp("db") / "civicloop.db")
        return
    # A database of our own per process: PostGIS must really be there, or the run fails (no skip).
    admin_url = postgres_admin(_postgres_admin_url())
    name = f"civicloop_test_{uuid.uuid4().hex[:12]}"
    url = postgres_database(run, admin_url, name)
    try:
        yield url
    finally:
        drop_postgres_database(admin_url, name)


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


# Each table's own sequences (serial or identity columns) on PostgreSQL.
OWNED_SEQUENCES = text(
    "SELECT t.relname, s.oid::regclass::text FROM pg_class s"
    " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
    " JOIN pg_class t ON t.oid = d.refobjid"
    " WHERE s.relkind = 'S'"
)


class Tables:
    """Empties the tables a test filled, and only those: TRUNCATE costs PostgreSQL a new file per
    table and index (about 1.5 s for ours, on every test), a DELETE of a few small tables ~0.1 s."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine
        self.names = [t.name for t in reversed(Base.metadata.sorted_tables)]
        self.sequences: dict[str, list[str]] = {}
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as connection:
                for table, sequence in connection.execute(OWNED_SEQUENCES):
                    self.sequences.setdefault(table, []).append(sequence)
        else:
            # The R*Tree beside `issue`, kept by our own code on SQLite.
            self.names.append("issue_location_rtree")
        self.probe = text(
            " UNION ALL ".join(
                f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in self.names
            )
        )

    def empty(self) -> None:
        with self.engine.begin() as connection:
            filled = set(connection.scalars(self.probe))
            for table in (t for t in self.names if t in filled):
                connection.execute(text(f'DELETE FROM "{table}"'))
                # Ids start at 1 again in the next test, as after TRUNCATE ... RESTART IDENTITY.
                for sequence in self.sequences.get(table, ()):
                    connection.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


@pytest.fixture(scope="session")
def _tables(database: Database) -> Tables:
    return Tables(database)


@pytest.fixture(autouse=True)
def _empty_database_after_test(_tables: Tables) -> Iterator[None]:
    yield
    _tables.empty()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The apps' data directory: one per test process, so that apps can be reused."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(autouse=True)
def _empty_data_dir_after_test(data_dir: Path) -> Iterator[None]:
    yield
    for entry in data_dir.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


@pytest.fixture
def settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        data_dir=data_dir,
        secret_key=TEST_SECRET,
        # A live feed stream ends soon, so a test reading one over ASGI gets its whole answer.
        feed_max_seconds=0.2,
        feed_poll_seconds=0.05,
        _env_file=None,
    )


class Apps:
    """One app per distinct Settings for the whole run: FastAPI analyses every route's
    dependencies on its first request (0.2-0.5 s per fresh app), and there are a hundred routes."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.built: list[tuple[Settings, FastAPI]] = []

    def get(self, settings: Settings) -> FastAPI:
        # Settings are not hashable; equal settings make the same app.
        for known, app in self.built:
            if known == settings:
                return app
        app = create_app(settings, self.database)
        self.built.append((settings, app))
        return app


AppFor = Callable[[Settings], FastAPI]


@pytest.fixture(scope="session")
def _apps(database: Database) -> Apps:
    return Apps(database)


@pytest.fixture
def app_for(_apps: Apps) -> Iterator[AppFor]:
    """The app for these settings, with state of this test's own (one per settings per test)."""
    used: dict[int, FastAPI] = {}

    def get(settings: Settings) -> FastAPI:
        app = _apps.get(settings)
        if id(app) not in used:
            attach_state(app)
            used[id(app)] = app
        return app

    yield get
    # What the lifespan does when a server stops (httpx's ASGI transport runs no lifespan).
    for app in used.values():
        app.state.photo_workers.shutdown(wait=True)


@pytest.fixture
def app(settings: Settings, app_for: AppFor) -> FastAPI:
    return app_for(settings)


@asynccontextmanager
async def http_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that talks to the app in this process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as client:
        yield client


SMALL_POOL_SIZE = 1  # and as many again at a peak: two connections in all


@pytest.fixture
def small_pool(database_url: str) -> Iterator[Database]:
    """The test database through a pool of two connections, whose callers give up after 0.2 s."""
    database = Database(database_url, pool_size=SMALL_POOL_SIZE, pool_timeout=0.2)
    yield database
    database.dispose()


@contextmanager
def every_connection_held(database: Database) -> Iterator[None]:
    """Every connection of a `small_pool` taken and in use, as at a load peak."""
    with ExitStack() as held:
        for _ in range(2 * SMALL_POOL_SIZE):
            held.enter_context(database.engine.connect()).exec_driver_sql("SELECT 1")
        yield


@pytest.fixture
def db(database: Database) -> Iterator[Session]:
    """A session for arranging data (factories commit) and checking what was stored."""
    with database.session(write=False) as session:
        yield session
