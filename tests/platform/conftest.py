"""Fixtures for the platform tests: empty databases of the suite's kind, beside the shared one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text

from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.conftest import TEST_SECRET

NewDatabase = Callable[[], str]


@pytest.fixture
def new_database(database_url: str, tmp_path: Path) -> Iterator[NewDatabase]:
    """Makes empty databases where the suite's database lives, and drops them afterwards."""
    base = make_url(database_url)
    if base.get_backend_name() == "sqlite":
        yield lambda: f"sqlite:///{tmp_path / uuid.uuid4().hex}.db"
        return
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def make() -> str:
        name = f"civicloop_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def settings_for(url: str, data_dir: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=url,
        data_dir=data_dir,
        secret_key=TEST_SECRET,
        _env_file=None,
    )


@asynccontextmanager
async def client_for(database: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app over HTTP on a database of the test's own."""
    transport = httpx.ASGITransport(app=create_app(settings, database))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
