"""Engines and sessions for both databases, and the per-request session dependency."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from sqlalchemy import (
    Connection,
    CursorResult,
    Delete,
    Engine,
    Update,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from app.config import SQLITE_BUSY_TIMEOUT_S, Settings
from app.services import rollups  # noqa: F401  (its mapper events keep the rollups on every write)
from app.spatial import SpatialBackend, backend_for

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Execution option read by the SQLite BEGIN hook: writers take the write lock up front.
WRITE_OPTION = "civicloop_write"
# Session.info key: what to undo outside the database if the transaction does not commit.
UNDO_KEY = "civicloop_undo"

log = logging.getLogger(__name__)


def on_rollback(session: Session, undo: Callable[[], None]) -> None:
    """Undo a side effect made outside the database (a stored file) unless this unit of work
    commits: after a rollback, a failed commit, or a session closed without committing."""
    session.info.setdefault(UNDO_KEY, []).append(undo)


def _forget_undo(session: Session) -> None:
    session.info.pop(UNDO_KEY, None)


def _run_undo(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    for undo in reversed(session.info.pop(UNDO_KEY, [])):
        try:
            undo()
        except Exception:
            # Already failing: log what is left behind rather than mask the first error.
            log.exception("could not undo a side effect of a rolled-back transaction")


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: Engine, *, busy_timeout_s: float) -> None:
    from app.spatial.sqlite import register_functions

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite recipe: the driver must not BEGIN by itself; we do it in the "begin" hook.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            f"busy_timeout={round(busy_timeout_s * 1000)}",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        register_functions(dbapi_connection)
        # SQLite's lower() folds ASCII only; PostgreSQL's folds every script. Text search
        # (ILIKE, which SQLite runs as lower() LIKE lower()) must match alike on both.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # BEGIN IMMEDIATE is SQLite's honest SELECT ... FOR UPDATE: one writer at a time, decided
        # at the start, so a read-then-write transaction can never fail half way with SQLITE_BUSY.
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def create_db_engine(
    url: str,
    *,
    pool_size: int = 10,
    pool_timeout: float = 5,
    busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S,
) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False},
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=pool_timeout,
        )
        _configure_sqlite(engine, busy_timeout_s=busy_timeout_s)
        return engine
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=pool_timeout,
            pool_pre_ping=True,
        )
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


class Database:
    """One engine, its session factories and its spatial backend."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        pool_timeout: float = 5,
        busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S,
    ) -> None:
        # A short pool timeout: a request that cannot get a connection soon is answered 503
        # with Retry-After (app.errors) instead of hanging.
        self.engine = create_db_engine(
            url, pool_size=pool_size, pool_timeout=pool_timeout, busy_timeout_s=busy_timeout_s
        )
        self.spatial: SpatialBackend = backend_for(self.engine)
        self._writer = self.engine.execution_options(**{WRITE_OPTION: True})
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self._writer, expire_on_commit=False)
        for maker in (self._read, self._write):
            # after_commit comes first, so a committed transaction has nothing left to undo.
            event.listen(maker, "after_commit", _forget_undo)
            event.listen(maker, "after_transaction_end", _run_undo)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            settings.effective_database_url,
            pool_size=settings.db_pool_per_process,
            pool_timeout=settings.db_pool_timeout_seconds,
            busy_timeout_s=settings.sqlite_busy_timeout_seconds,
        )

    def session(self, *, write: bool) -> Session:
        return (self._write if write else self._read)()

    def connect(self, *, write: bool) -> Connection:
        """A connection for a run of short Core transactions (the worker's bookkeeping)."""
        return (self._writer if write else self.engine).connect()

    def dispose(self) -> None:
        self.engine.dispose()


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work; `app.http.route.UnitOfWorkRoute` commits it before responding."""
    yield from _unit_of_work(request, write=request.method not in SAFE_METHODS)


SessionDep = Annotated[Session, Depends(get_session)]


def get_write_session(request: Request) -> Iterator[Session]:
    """For the few GETs that change state (one-tap links in messages): a writer from the start."""
    yield from _unit_of_work(request, write=True)


def _unit_of_work(request: Request, *, write: bool) -> Iterator[Session]:
    database: Database = request.app.state.database
    with database.session(write=write) as session:
        request.state.session = session
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


def rows_changed(session: Session, statement: Update | Delete) -> int:
    """Run a conditional UPDATE (or a DELETE); how many rows it changed (0: the condition no
    longer held)."""
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount)
