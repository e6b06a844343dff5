"""Run an import: batches of records, one transaction each, with progress as it goes.

Nothing waits on the network inside a transaction: a page is fetched first, then stored.
A run that stops half-way keeps every committed batch; the next run skips what is stored (by
source id) and, for Open311, resumes at the first window not fully read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import select

from app.db import Database
from app.importers import tabular
from app.importers.apply import Catalogue, Options, apply_batch
from app.importers.open311 import Open311Client, record
from app.importers.records import Record, Rejected, Tally
from app.models import Category, ImportCursor
from app.models.base import utcnow

# Called with how many more source rows were handled, and the total when known.
Progress = Callable[[int, int | None], None]
BATCH_SIZE = 500


def _no_progress(_done: int, _total: int | None) -> None:
    return None


class CannotImport(ValueError):
    """The import cannot start: say what to fix."""


def check_options(database: Database, options: Options) -> None:
    """Every category code the mapping names must exist before anything is stored."""
    codes = {*options.categories.values(), *filter(None, [options.fallback_category])}
    with database.session(write=False) as session:
        known = set(session.scalars(select(Category.code).where(Category.code.in_(codes))))
    missing = sorted(codes - known)
    if missing:
        raise CannotImport(
            f"category {', '.join(map(repr, missing))} named by the mapping does not exist here "
            "(create it first, e.g. with the city file)"
        )


class Batches:
    """Collects records and stores them `size` at a time."""

    def __init__(
        self, database: Database, *, source: str, options: Options, size: int, progress: Progress
    ) -> None:
        self.database, self.source, self.size, self.progress = database, source, size, progress
        self.catalogue = Catalogue(options)
        self.tally = Tally()
        self.pending: list[Record] = []

    def add(self, items: Iterable[Record | Rejected]) -> None:
        for item in items:
            if isinstance(item, Rejected):
                self.tally.rejected.append(item)
                self.progress(1, None)
                continue
            self.pending.append(item)
            if len(self.pending) >= self.size:
                self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with self.database.session(write=True) as session, session.begin():
            apply_batch(
                session,
                spatial=self.database.spatial,
                source=self.source,
                records=self.pending,
                catalogue=self.catalogue,
                tally=self.tally,
            )
        self.progress(len(self.pending), None)
        self.pending = []


def import_csv(
    database: Database,
    *,
    path: Path,
    layout: tabular.Layout,
    fallback_category: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress = _no_progress,
) -> Tally:
    """Import a CSV export read through a layout."""
    options = Options(categories=layout.categories, fallback_category=fallback_category)
    check_options(database, options)
    progress(0, tabular.count_rows(path, layout))
    batches = Batches(
        database, source=layout.source, options=options, size=batch_size, progress=progress
    )
    batches.add(tabular.read(path, layout))
    batches.flush()
    return batches.tally


def source_name(url: str) -> str:
    return "open311:" + url.rstrip("/")


def _cursor(database: Database, source: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    with database.session(write=False) as session:
        cursor = session.get(ImportCursor, source)
        return (cursor.read_until, cursor.updated_until) if cursor else (None, None)


def _save_cursor(database: Database, source: str, **values: dt.datetime | None) -> None:
    with database.session(write=True) as session, session.begin():
        cursor = session.get(ImportCursor, source) or ImportCursor(source=source)
        for name, value in values.items():
            setattr(cursor, name, value)
        session.add(cursor)


def import_open311(
    database: Database,
    *,
    client: Open311Client,
    since: dt.datetime,
    fallback_category: str | None = None,
    categories: dict[str, str] | None = None,
    page_size: int = 200,
    progress: Progress = _no_progress,
) -> Tally:
    """Services, then requests by date window (from `since`, or where the last run stopped),
    then what changed since the last run (updated_after)."""
    source = source_name(client.url)
    options = Options(categories=categories or {}, fallback_category=fallback_category)
    check_options(database, options)
    services = client.services()
    read_until, updated_until = _cursor(database, source)
    # Windows end on a whole second, as GeoReport datetimes are written: the cursor then holds
    # exactly the end that was asked for, and the next run starts there.
    now = utcnow().replace(microsecond=0)
    batches = Batches(database, source=source, options=options, size=page_size, progress=progress)
    seen: set[str] = set()
    latest = updated_until
    position = 0

    def take(found: list[object]) -> None:
        nonlocal latest, position
        fresh: list[Record | Rejected] = []
        for item in found:
            position += 1
            parsed = record(position, item, services)
            if isinstance(parsed, Record):
                if parsed.external_id in seen:
                    continue  # on the boundary of two windows
                seen.add(parsed.external_id)
                if parsed.updated_at and (latest is None or parsed.updated_at > latest):
                    latest = parsed.updated_at
            fresh.append(parsed)
        batches.add(fresh)
        batches.flush()

    for window_end, found in client.windows(read_until or since, now, page_size=page_size):
        if found:
            take(found)
        else:
            # The window was read to its end: a later run starts after it.
            _save_cursor(database, source, read_until=window_end)
    if updated_until is not None:
        for found in client.changed(updated_until, page_size=page_size):
            take(found)
    _save_cursor(database, source, read_until=now, updated_until=latest or now)
    return batches.tally
