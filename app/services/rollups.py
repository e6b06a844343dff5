"""Rollups of the published issues, kept exact in the transaction that changes an issue.

Why the same transaction and not a worker with a watermark: every write to an issue goes
through the ORM, and the mapper events below see each one (created, transitioned, merged,
transferred, reopened, hidden, made private, deleted) with its values before and after. The
issue's old contribution is taken out and its new one put in by the same flush, so the figures
are never a commit behind and there is no watermark to lose or replay. Writes that bypass the
ORM (the bench's COPY, hand-written SQL) call `rebuild` afterwards.

A rollup is a table, its key and measure columns, and what one issue's values contribute to
it; each registered in ROLLUPS is maintained from the same place. Two are kept here: issues
per local day (`IssueDayRollup`) and the per-minute histogram of response times
(`IssueDurationRollup`). Days are the city's (its file's `time_zone`; UTC before one is
applied): a new time zone rebuilds them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import IntFlag
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Delete, Result, Table, Update, delete, event, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from app.models import City, Issue, IssueDayRollup, IssueDurationRollup
from app.models.issue import restricted

ALL = -1  # a dimension the row's grain does not keep
NONE = 0  # the issue has no agency (unclaimed) or no district (outside every one)
REBUILD_BATCH = 20_000
ADD_CHUNK = 1_000  # rows per INSERT: 9 columns each, well under SQLite's 32,766 parameters


class Dim(IntFlag):
    category = 1
    agency = 2
    district = 4


# Overall, one dimension at a time, and all three: a statistic reads the smallest grain holding
# the dimensions it filters or groups by (two dimensions at once read the full grain).
GRAINS = (Dim(0), Dim.category, Dim.agency, Dim.district, Dim.category | Dim.agency | Dim.district)

COLUMNS = (
    "created_at",
    "status",
    "category_id",
    "agency_id",
    "district_id",
    "acknowledged_at",
    "acknowledge_due_at",
    "resolved_at",
    "resolve_due_at",
    "hidden_at",
    "is_private",
    "review",
)
Values = Mapping[str, Any]
Key = tuple[Any, ...]
Contribution = Iterator[tuple[Key, tuple[int, ...]]]


@dataclass(frozen=True)
class Rollup:
    """A table kept from issues: the sum of every issue's contribution to each key."""

    table: Table
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    contribute: Callable[[Values, ZoneInfo], Contribution]


def grain_for(dims: Dim) -> Dim:
    """The smallest grain that keeps every dimension in `dims`."""
    return next(g for g in GRAINS if dims & g == dims)


def local_day(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    return moment.astimezone(zone).date()


def whole_minutes(start: dt.datetime, end: dt.datetime) -> int:
    """Minutes between two times as the statistics count them (`sqltime.epoch_seconds`): each
    time truncated to its second, the difference divided toward zero, as SQL integers do."""
    seconds = int(end.timestamp() // 1) - int(start.timestamp() // 1)
    return seconds // 60 if seconds >= 0 else -(-seconds // 60)


def _published(v: Values) -> bool:
    # The rule of `issues.publicly_visible`: statistics count only what public surfaces show.
    return v["hidden_at"] is None and not restricted(v["is_private"], v["review"])


def _dims(v: Values, grain: Dim) -> tuple[int, int, int]:
    return (
        v["category_id"] if Dim.category in grain else ALL,
        (v["agency_id"] or NONE) if Dim.agency in grain else ALL,
        (v["district_id"] or NONE) if Dim.district in grain else ALL,
    )


def _issue_days(v: Values, zone: ZoneInfo) -> Contribution:
    if not _published(v):
        return
    reported = local_day(v["created_at"], zone)
    resolved = local_day(v["resolved_at"], zone) if v["resolved_at"] is not None else None
    status = str(v["status"])
    for grain in GRAINS:
        dims = _dims(v, grain)
        yield (int(grain), reported, *dims, status), (1, 0)
        if resolved is not None:
            yield (int(grain), resolved, *dims, status), (0, 1)


STAGES = (
    ("acknowledge", "acknowledged_at", "acknowledge_due_at"),
    ("resolve", "resolved_at", "resolve_due_at"),
)


def _durations(v: Values, zone: ZoneInfo) -> Contribution:
    if not _published(v):
        return
    reported = local_day(v["created_at"], zone)
    for stage, done_column, due_column in STAGES:
        done = v[done_column]
        if done is None:
            continue
        minute = whole_minutes(v["created_at"], done)
        met = int(done <= v[due_column])
        for grain in GRAINS:
            yield (int(grain), stage, reported, *_dims(v, grain), minute), (1, met)


ROLLUPS: list[Rollup] = [
    Rollup(
        IssueDayRollup.__table__,  # type: ignore[arg-type]
        ("grain", "day", "category_id", "agency_id", "district_id", "status"),
        ("reported", "resolved"),
        _issue_days,
    ),
    Rollup(
        IssueDurationRollup.__table__,  # type: ignore[arg-type]
        ("grain", "stage", "day", "category_id", "agency_id", "district_id", "minute"),
        ("n", "met"),
        _durations,
    ),
]


def zone_of(connection: Connection) -> ZoneInfo:
    """The zone the rollups' days are in: the city's, or UTC before a city file is applied."""
    name = connection.scalar(select(City.time_zone).order_by(City.id).limit(1))
    return ZoneInfo(name or "UTC")


def zone(session: Session) -> ZoneInfo:
    return zone_of(session.connection())


def _add(connection: Connection, rollup: Rollup, totals: Mapping[Key, list[int]]) -> None:
    """Add the totals to the rows (creating missing ones) in one statement."""
    rows = [
        dict(zip(rollup.keys, key, strict=True)) | dict(zip(rollup.measures, m, strict=True))
        for key, m in totals.items()
        if any(m)
    ]
    if not rows:
        return
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    # Multi-row VALUES, not executemany: one round trip per chunk (a rebuild writes millions).
    for start in range(0, len(rows), ADD_CHUNK):
        statement = insert(rollup.table).values(rows[start : start + ADD_CHUNK])
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=list(rollup.keys),
                set_={m: rollup.table.c[m] + statement.excluded[m] for m in rollup.measures},
            )
        )


def _accumulate(
    totals: defaultdict[Key, list[int]], found: Contribution, sign: int
) -> defaultdict[Key, list[int]]:
    for key, measures in found:
        total = totals[key]
        for i, m in enumerate(measures):
            total[i] += sign * m
    return totals


def _totals(rollup: Rollup) -> defaultdict[Key, list[int]]:
    return defaultdict(lambda: [0] * len(rollup.measures))


def apply_change(connection: Connection, old: Values | None, new: Values | None) -> None:
    """Move one issue's contribution to every rollup from its old values to its new ones."""
    zone = zone_of(connection)
    for rollup in ROLLUPS:
        totals = _totals(rollup)
        if old is not None:
            _accumulate(totals, rollup.contribute(old, zone), -1)
        if new is not None:
            _accumulate(totals, rollup.contribute(new, zone), +1)
        _add(connection, rollup, totals)


def rebuild(bind: Connection | Session) -> int:
    """Recompute every rollup from the issue table (after a bulk load, or a new time zone):
    the same contributions the live path adds, in batches. Returns the issues counted."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    zone = zone_of(connection)
    for rollup in ROLLUPS:
        connection.execute(delete(rollup.table))
    table = Issue.__table__
    columns = [table.c[name] for name in COLUMNS]
    last, seen = 0, 0
    while True:
        batch = connection.execute(
            select(table.c.id, *columns)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(REBUILD_BATCH)
        ).all()
        if not batch:
            return seen
        values = [dict(row._mapping) for row in batch]
        for rollup in ROLLUPS:
            totals = _totals(rollup)
            for v in values:
                _accumulate(totals, rollup.contribute(v, zone), +1)
            _add(connection, rollup, totals)
        last, seen = batch[-1].id, seen + len(batch)


# --- the maintenance hooks: every flushed change to an issue, and every UPDATE/DELETE of issues
# issued through a session (`update(Issue)...`), each with the values before and after ------

_OLD = "rollups.old"  # connection.info: the values of issues being updated, taken before


def _changed(target: Issue) -> bool:
    state = inspect(target)
    return any(state.attrs[name].history.has_changes() for name in COLUMNS)


def _values_before(connection: Connection, target: Issue) -> dict[str, Any]:
    """The issue's values as stored: from what the session loaded, else from the row."""
    state = inspect(target)
    values: dict[str, Any] = {}
    missing: list[str] = []
    for name in COLUMNS:
        history = state.attrs[name].history
        if history.deleted:
            values[name] = history.deleted[0]
        elif history.unchanged:
            values[name] = history.unchanged[0]
        else:  # expired, or set without having been loaded: the row knows
            missing.append(name)
    if missing:
        table = Issue.__table__
        row = connection.execute(
            select(*(table.c[name] for name in missing)).where(table.c.id == target.id)
        ).one()
        values.update(row._mapping)
    return values


def _values_now(target: Issue, before: Values) -> dict[str, Any]:
    now = inspect(target).dict
    return {name: now.get(name, before[name]) for name in COLUMNS}


@event.listens_for(Issue, "after_insert")
def _inserted(_mapper: Mapper[Issue], connection: Connection, target: Issue) -> None:
    state = inspect(target).dict
    apply_change(connection, None, {name: state.get(name) for name in COLUMNS})


@event.listens_for(Issue, "before_update")
def _updating(_mapper: Mapper[Issue], connection: Connection, target: Issue) -> None:
    if _changed(target):
        connection.info.setdefault(_OLD, {})[id(target)] = _values_before(connection, target)


@event.listens_for(Issue, "after_update")
def _updated(_mapper: Mapper[Issue], connection: Connection, target: Issue) -> None:
    before = connection.info.get(_OLD, {}).pop(id(target), None)
    if before is not None:
        apply_change(connection, before, _values_now(target, before))


@event.listens_for(Issue, "before_delete")
def _deleting(_mapper: Mapper[Issue], connection: Connection, target: Issue) -> None:
    apply_change(connection, _values_before(connection, target), None)


def _touches(statement: Update | Delete) -> bool:
    if isinstance(statement, Delete):
        return True
    values = getattr(statement, "_values", None)
    if not values:  # ordered or multiple values: assume the worst
        return True
    return any(getattr(key, "key", key) in COLUMNS for key in values)


@event.listens_for(Session, "do_orm_execute")
def _statement(state: ORMExecuteState) -> Result[Any] | None:
    statement = state.statement
    if not (
        isinstance(statement, Update | Delete)
        and getattr(statement.table, "name", None) == Issue.__tablename__  # an annotated copy
        and _touches(statement)
    ):
        return None
    table = Issue.__table__
    columns = [table.c[name] for name in COLUMNS]
    chosen = select(table.c.id, *columns)
    if statement.whereclause is not None:
        chosen = chosen.where(statement.whereclause)
    before = {row.id: dict(row._mapping) for row in state.session.execute(chosen)}
    result = state.invoke_statement()
    connection = state.session.connection()
    after = {
        row.id: dict(row._mapping)
        for row in connection.execute(select(table.c.id, *columns).where(table.c.id.in_(before)))
    }
    for issue_id, old in before.items():
        apply_change(connection, old, after.get(issue_id))
    return result


def _rebuild_on_new_zone(connection: Connection, before: str | None, after: str) -> None:
    if (before or "UTC") != after:
        rebuild(connection)


@event.listens_for(City, "after_insert")
def _city_created(_mapper: Mapper[City], connection: Connection, target: City) -> None:
    _rebuild_on_new_zone(connection, None, target.time_zone)


@event.listens_for(City, "after_update")
def _city_updated(_mapper: Mapper[City], connection: Connection, target: City) -> None:
    history = inspect(target).attrs.time_zone.history
    if history.deleted and history.added:
        _rebuild_on_new_zone(connection, history.deleted[0], history.added[0])
