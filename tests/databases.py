"""The test processes' databases: one migrated template per run, cloned for each process.

`alembic upgrade head` runs once per run, in whichever test process needs a database first (a
file lock orders them); every process then gets a database of its own copied from that template:
`CREATE DATABASE ... TEMPLATE` on PostgreSQL, SQLite's backup API on SQLite. The process that
started the run (pytest-xdist's controller, or the only process) removes the template at the end.
"""

from __future__ import annotations

import fcntl
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path

from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from app.db import Database
from app.dbmigrate import pending_migrations, upgrade

# PostgreSQL refuses to copy a template while a session is still connected to it, and a closed
# connection's server process can take a moment to go.
TEMPLATE_BUSY_RETRIES = 100
TEMPLATE_BUSY_WAIT_S = 0.1


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def _lock_path(run: str) -> Path:
    return Path(tempfile.gettempdir()) / f"civicloop-test-template-{run}.lock"


def _sqlite_template(run: str) -> Path:
    return Path(tempfile.gettempdir()) / f"civicloop-test-template-{run}.db"


def _postgres_template(run: str) -> str:
    return f"civicloop_test_template_{run}"


def postgres_admin(url: str) -> URL:
    return make_url(url).set(drivername="postgresql+psycopg")


@contextmanager
def _template_lock(run: str) -> Iterator[None]:
    with _lock_path(run).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _migrate(url: str) -> None:
    """Bring the template to head; a template already there (or half-built: each migration
    runs in one transaction) is checked, and migrated only as far as it needs."""
    template = Database(url)
    try:
        if pending_migrations(template.engine):
            upgrade(template.engine)
    finally:
        template.dispose()


def sqlite_database(run: str, target: Path) -> str:
    """A migrated SQLite database at `target`: its URL."""
    template = _sqlite_template(run)
    with _template_lock(run):
        _migrate(f"sqlite:///{template}")
        with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
    return f"sqlite:///{target}"


def postgres_database(run: str, admin_url: URL, name: str) -> str:
    """A migrated PostgreSQL database called `name` on the server of `admin_url`: its URL."""
    template = _postgres_template(run)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with _template_lock(run):
            with admin.connect() as connection:
                exists = connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": template}
                )
                if not exists:
                    connection.execute(text(f'CREATE DATABASE "{template}"'))
            _migrate(admin_url.set(database=template).render_as_string(hide_password=False))
            for attempt in range(TEMPLATE_BUSY_RETRIES):
                try:
                    with admin.connect() as connection:
                        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                    break
                except OperationalError as error:
                    in_use = getattr(error.orig, "sqlstate", None) == "55006"
                    if not in_use or attempt == TEMPLATE_BUSY_RETRIES - 1:
                        raise
                    time.sleep(TEMPLATE_BUSY_WAIT_S)
    finally:
        admin.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: URL, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def remove_template(run: str, kind: str, admin_url: URL) -> None:
    """After the run: the template is gone (nothing to do when no process made one)."""
    lock = _lock_path(run)
    if not lock.exists():
        return
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{_sqlite_template(run)}{suffix}").unlink(missing_ok=True)
    else:
        # A server that never answered has no template to drop.
        with suppress(SQLAlchemyError):
            drop_postgres_database(admin_url, _postgres_template(run))
    lock.unlink(missing_ok=True)
