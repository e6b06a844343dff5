"""Public statistics, counted by the database on PostgreSQL and SQLite alike.

Every query reads the issue table once. Time patterns are counted per UTC hour by the database
and folded into the city's local days, weeks, months, hours and weekdays here, which keeps the
SQL identical on both databases and the local calendar exact (daylight saving included).
Percentiles are exact to the minute: the database counts durations per whole minute and picks
the minute where the running total crosses the share (percentile_disc).

Counts, daily series and timings read the daily rollups (`services.rollups`) when the filter is
one they hold: statuses, categories, agency, districts, and a report-time range from local
midnight to local midnight. Any other filter (a map area, text, flags, times within a day), the
time-frame counts (they depend on the present moment) and the hourly patterns read the issue
table. Both paths give the same figures: the tests compare them on the same data.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import CTE, ColumnElement, Select, case, func, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from app import i18n
from app.models import (
    Agency,
    Category,
    District,
    Issue,
    IssueDayRollup,
    IssueDurationRollup,
    IssueStatus,
)
from app.models.base import utcnow
from app.services import issues, rollups, timeframes
from app.services.issues import IssueFilter
from app.services.rollups import NONE, Dim
from app.services.sqltime import epoch_seconds, from_epoch_hour
from app.spatial import SpatialBackend


class Dimension(StrEnum):
    status = "status"
    category = "category"
    agency = "agency"
    district = "district"
    timeframe = "timeframe"  # on_track, at_risk, late, met, missed: as each issue's time frame


class Event(StrEnum):
    reported = "reported"
    resolved = "resolved"


class Stage(StrEnum):
    acknowledge = "acknowledge"
    resolve = "resolve"


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"


@dataclass(frozen=True)
class Scope:
    """Which issues a statistic counts: the list filters, as WHERE clauses."""

    session: Session
    spatial: SpatialBackend
    issue_filter: IssueFilter
    # False: count from the issue table even where the rollups hold the filter (the tests'
    # reference, and the bench's baseline).
    use_rollups: bool = True

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def where(self) -> list[ColumnElement[bool]]:
        return issues.filter_conditions(self.session, self.spatial, self.issue_filter)

    def prepare(self) -> None:
        """PostgreSQL guesses one group per row for computed keys and would sort on disk with
        the default work_mem; the hash fits in memory. JIT costs more than it saves here."""
        if self.dialect == "postgresql":
            self.session.execute(text("SET LOCAL work_mem = '64MB'"))
            self.session.execute(text("SET LOCAL jit = off"))


# The filter fields the rollups hold (the sort orders nothing here); any other field set to
# something else than its default makes a statistic read the issue table.
HELD = frozenset(
    {"statuses", "category_codes", "agency_id", "district_codes", "created_after", "created_before"}
)
UNHELD = {
    name: field.default
    for name, field in IssueFilter.__dataclass_fields__.items()
    if name not in HELD | {"sort"}
}


@dataclass(frozen=True)
class Cut:
    """A statistic's filter as the rollups hold it: fixed dimensions, statuses, local days."""

    zone: ZoneInfo
    dims: Dim
    conditions: tuple[tuple[str, list[int]], ...]  # rollup key column -> ids
    statuses: tuple[IssueStatus, ...]
    first_day: dt.date | None  # reported on or after
    end_day: dt.date | None  # reported before

    def where(
        self, model: type[IssueDayRollup] | type[IssueDurationRollup], dims: Dim
    ) -> list[Any]:
        table = model.__table__.c
        found: list[Any] = [table.grain == int(rollups.grain_for(dims | self.dims))]
        found += [table[column].in_(ids) for column, ids in self.conditions]
        if self.statuses:
            found.append(table.status.in_([str(s) for s in self.statuses]))
        if self.first_day is not None:
            found.append(table.day >= self.first_day)
        if self.end_day is not None:
            found.append(table.day < self.end_day)
        return found


def _on_midnight(moment: dt.datetime | None, zone: ZoneInfo) -> bool:
    return moment is None or moment.astimezone(zone).time() == dt.time(0)


def _day(moment: dt.datetime | None, zone: ZoneInfo) -> dt.date | None:
    return None if moment is None else moment.astimezone(zone).date()


def cut(scope: Scope) -> Cut | None:
    """The rollups' reading of the scope's filter, or None when they do not hold it."""
    f = scope.issue_filter
    if not scope.use_rollups or any(getattr(f, n) != default for n, default in UNHELD.items()):
        return None
    zone = rollups.zone(scope.session)
    if not (_on_midnight(f.created_after, zone) and _on_midnight(f.created_before, zone)):
        return None
    dims, conditions = Dim(0), []
    if f.category_codes:
        dims |= Dim.category
        conditions.append(("category_id", issues.category_ids(scope.session, f.category_codes)))
    if f.agency_id is not None:
        dims |= Dim.agency
        conditions.append(("agency_id", [f.agency_id]))
    if f.district_codes:
        dims |= Dim.district
        conditions.append(("district_id", issues.district_ids(scope.session, f.district_codes)))
    return Cut(
        zone,
        dims,
        tuple(conditions),
        f.statuses,
        _day(f.created_after, zone),
        _day(f.created_before, zone),
    )


def _labels(
    session: Session, model: type[Category] | type[Agency] | type[District], key: Any
) -> dict[Any, tuple[str, str]]:
    """Code and name (in the answer's language) by id."""
    return {
        row[0]: (row[1], i18n.pick(row[2], row[3]))
        for row in session.execute(select(model.id, key, model.name_th, model.name_en))
    }


GROUPED: dict[Dimension, InstrumentedAttribute[Any]] = {  # the time frame is computed
    Dimension.status: Issue.status,
    Dimension.category: Issue.category_id,
    Dimension.agency: Issue.agency_id,
    Dimension.district: Issue.district_id,
}


ROLLED_KEYS: dict[Dimension, tuple[str, Dim]] = {
    Dimension.status: ("status", Dim(0)),
    Dimension.category: ("category_id", Dim.category),
    Dimension.agency: ("agency_id", Dim.agency),
    Dimension.district: ("district_id", Dim.district),
}


def _rolled_counts(scope: Scope, by: Dimension) -> list[Any] | None:
    found = cut(scope) if by in ROLLED_KEYS else None
    if found is None:
        return None
    column, dims = ROLLED_KEYS[by]
    table = IssueDayRollup.__table__.c
    total = func.sum(table.reported)
    rows = scope.session.execute(
        select(table[column], total)
        .where(*found.where(IssueDayRollup, dims))
        .group_by(table[column])
        .having(total > 0)
    ).all()
    if by == Dimension.status:
        return [(IssueStatus(key), n) for key, n in rows]
    return [(None if key == NONE else key, n) for key, n in rows]


def counts(scope: Scope, by: Dimension) -> list[dict[str, Any]]:
    """Issues per status, category, handling agency, district or time-frame state (now), most
    first. Unclaimed issues count under a null agency, issues outside every district under a
    null district."""
    rows = _rolled_counts(scope, by)
    if rows is None:
        column = (
            timeframes.state(utcnow(), scope.dialect) if by == Dimension.timeframe else GROUPED[by]
        )
        # Grouped by the label: PostgreSQL would not match the two copies of a parametrised CASE.
        rows = list(
            scope.session.execute(
                select(column.label("key"), func.count()).where(*scope.where()).group_by("key")
            ).all()
        )
    labels: dict[Any, tuple[str, str]] = {}
    if by == Dimension.status:
        labels = {status: (status.value, i18n.label(status)) for status in IssueStatus}
    elif by == Dimension.category:
        labels = _labels(scope.session, Category, Category.code)
    elif by == Dimension.agency:
        labels = _labels(scope.session, Agency, Agency.slug)
    elif by == Dimension.district:
        labels = _labels(scope.session, District, District.code)
    result = []
    for key, count in rows:
        code, name = labels.get(key, (key, key)) if key is not None else (None, None)
        result.append(
            {"key": str(code) if code is not None else None, "name": name, "count": count}
        )
    return sorted(result, key=lambda r: (-r["count"], r["key"] or ""))


def _per_hour(scope: Scope, column: Any) -> Counter[int]:
    """How many issues have `column` in each UTC hour (hours since the epoch)."""
    hour = epoch_seconds(column, scope.dialect) // 3600
    rows = scope.session.execute(
        select(hour.label("hour"), func.count())
        .where(column.is_not(None), *scope.where())
        .group_by("hour")
    ).all()
    return Counter({int(h): n for h, n in rows})


def _period_start(day: dt.date, period: Period) -> dt.date:
    if period == Period.week:
        return day - dt.timedelta(days=day.weekday())
    if period == Period.month:
        return day.replace(day=1)
    return day


def _fold(hours: Counter[int], key: Callable[[dt.datetime], Any], zone: ZoneInfo) -> Counter[Any]:
    folded: Counter[Any] = Counter()
    for hour, count in hours.items():
        folded[key(from_epoch_hour(hour).astimezone(zone))] += count
    return folded


EVENT_TIMES = {Event.reported: Issue.created_at, Event.resolved: Issue.resolved_at}


def _rolled_days(scope: Scope, event: Event, zone: ZoneInfo) -> Counter[dt.date] | None:
    found = cut(scope)
    # Resolutions are rolled up by the day of resolution, not of report: a report-time range
    # over them reads the issue table.
    if (
        found is None
        or found.zone.key != zone.key
        or (event == Event.resolved and (found.first_day or found.end_day))
    ):
        return None
    table = IssueDayRollup.__table__.c
    total = func.sum(table.reported if event == Event.reported else table.resolved)
    rows = scope.session.execute(
        select(table.day, total)
        .where(*found.where(IssueDayRollup, Dim(0)))
        .group_by(table.day)
        .having(total > 0)
    ).all()
    return Counter({day: int(n) for day, n in rows})


def series(scope: Scope, event: Event, period: Period, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Issues reported (or resolved) per local day, week (from Monday) or month."""
    days = _rolled_days(scope, event, zone)
    if days is None:
        days = _fold(_per_hour(scope, EVENT_TIMES[event]), lambda moment: moment.date(), zone)
    per_period: Counter[dt.date] = Counter()
    for day, count in days.items():
        per_period[_period_start(day, period)] += count
    return [{"period": day.isoformat(), "count": per_period[day]} for day in sorted(per_period)]


def patterns(scope: Scope, zone: ZoneInfo) -> dict[str, Any]:
    """When people report: per local hour of day and per weekday, and the busiest of each."""
    hours = _per_hour(scope, Issue.created_at)
    by_hour = _fold(hours, lambda moment: moment.hour, zone)
    by_weekday = _fold(hours, lambda moment: moment.isoweekday(), zone)
    lang = i18n.current()
    return {
        "timezone": zone.key,
        "by_hour": [{"hour": h, "count": by_hour[h]} for h in range(24)],
        "by_weekday": [
            {"weekday": d, "name": i18n.t(f"label.weekday.{d}", lang), "count": by_weekday[d]}
            for d in range(1, 8)
        ],
        "busiest_hour": max(range(24), key=lambda h: (by_hour[h], -h)) if hours else None,
        "busiest_weekday": max(range(1, 8), key=lambda d: (by_weekday[d], -d)) if hours else None,
    }


def _raw_buckets(scope: Scope, done: Any, due: Any) -> Select[Any, Any, Any]:
    minutes = (
        epoch_seconds(done, scope.dialect) - epoch_seconds(Issue.created_at, scope.dialect)
    ) // 60
    return (
        select(
            minutes.label("minute"),
            func.count().label("n"),
            func.sum(case((done <= due, 1), else_=0)).label("met"),
        )
        .where(done.is_not(None), *scope.where())
        .group_by("minute")
    )


def _rolled_buckets(scope: Scope, stage: Stage) -> Select[Any, Any, Any] | None:
    found = cut(scope)
    if found is None or found.statuses:  # durations are not kept per status
        return None
    table = IssueDurationRollup.__table__.c
    return (
        select(
            table.minute.label("minute"),
            func.sum(table.n).label("n"),
            func.sum(table.met).label("met"),
        )
        .where(table.stage == stage.value, *found.where(IssueDurationRollup, Dim(0)))
        .group_by(table.minute)
        .having(func.sum(table.n) > 0)
    )


def _timing(scope: Scope, per_minute: Select[Any, Any, Any]) -> dict[str, Any]:
    # Planned on its own: hashed, rather than sorting every row for the window below.
    buckets: CTE = per_minute.cte("buckets").prefix_with("MATERIALIZED")
    running = select(
        buckets.c.minute,
        buckets.c.n,
        buckets.c.met,
        func.sum(buckets.c.n).over(order_by=buckets.c.minute).label("cumulative"),
        func.sum(buckets.c.n).over().label("total"),
    ).subquery()
    median, p90, total, met = scope.session.execute(
        select(
            func.min(running.c.minute).filter(running.c.cumulative * 2 >= running.c.total),
            func.min(running.c.minute).filter(running.c.cumulative * 10 >= running.c.total * 9),
            func.sum(running.c.n),
            func.sum(running.c.met),
        )
    ).one()
    total, met = int(total or 0), int(met or 0)
    return {
        "count": total,
        "median_hours": round(int(median) / 60, 2) if total else None,
        "p90_hours": round(int(p90) / 60, 2) if total else None,
        "within_target": met,
        "within_target_share": round(met / total, 4) if total else None,
    }


STAGES = {
    Stage.acknowledge: (Issue.acknowledged_at, Issue.acknowledge_due_at),
    Stage.resolve: (Issue.resolved_at, Issue.resolve_due_at),
}


def timings(scope: Scope, stage: Stage) -> dict[str, Any]:
    """Time from report to acknowledgement (or to resolution): median and 90th percentile
    (exact to the minute), and the share within the category's service-level target."""
    per_minute = _rolled_buckets(scope, stage)
    return _timing(scope, _raw_buckets(scope, *STAGES[stage]) if per_minute is None else per_minute)
