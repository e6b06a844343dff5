"""A database the test may take away for a moment, of the suite's kind.

PostGIS: a private cluster, stopped (fast shutdown: sessions cut off) and started again.
SQLite: the suite's database file, its write lock held by another connection for longer than
the server's busy timeout.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import make_url

from app.db import Database
from app.dbmigrate import upgrade
from tests.faults.postgres import private_cluster

# Long enough that clients retrying meanwhile meet the outage several times.
OUTAGE_SECONDS = 2.5
SQLITE_BUSY_TIMEOUT_SECONDS = 0.5


@dataclass
class FaultyDatabase:
    url: str
    database: Database  # for arranging data and checking what was stored
    outage: Callable[[], None]  # the database goes away, then comes back; returns once it is back
    what: str
    settings: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def faulty_database(
    db_kind: str, database_url: str, database: Database
) -> Iterator[FaultyDatabase]:
    if db_kind == "sqlite":
        path = make_url(database_url).database
        assert path

        def hold_write_lock() -> None:
            holder = sqlite3.connect(path, isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")
                time.sleep(OUTAGE_SECONDS)
                holder.execute("ROLLBACK")
            finally:
                holder.close()

        yield FaultyDatabase(
            database_url,
            database,
            hold_write_lock,
            f"SQLite write lock held {OUTAGE_SECONDS} s, busy timeout "
            f"{SQLITE_BUSY_TIMEOUT_SECONDS} s",
            {"CIVICLOOP_SQLITE_BUSY_TIMEOUT_SECONDS": str(SQLITE_BUSY_TIMEOUT_SECONDS)},
        )
        return
    with private_cluster() as cluster:
        own = Database(cluster.url)
        try:
            upgrade(own.engine)

            def restart() -> None:
                cluster.stop()
                time.sleep(OUTAGE_SECONDS)
                cluster.start()

            yield FaultyDatabase(
                cluster.url,
                own,
                restart,
                f"PostgreSQL stopped (fast) for {OUTAGE_SECONDS} s and started again",
            )
        finally:
            own.dispose()
