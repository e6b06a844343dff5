"""Public statistics, counted by the database on PostgreSQL and SQLite alike.

Every query reads the issue table once. Time patterns are counted per UTC hour by the database
and folded into the city's local days, weeks, months, hours and weekdays here, which keeps the
SQL identical on both databases and the local calendar exact (daylight saving included).
Percentiles are exact to the minute: the database counts durations per whole minute and picks
the minute where the running total crosses the share (percentile_disc).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from app import i18n
from app.models import Agency, Category, District, Issue, IssueStatus
from app.models.base import utcnow
from app.services import issues, timeframes
from app.services.issues import IssueFilter
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


def counts(scope: Scope, by: Dimension) -> list[dict[str, Any]]:
    """Issues per status, category, handling agency, district or time-frame state (now), most
    first. Unclaimed issues count under a null agency, issues outside every district under a
    null district."""
    column = timeframes.state(utcnow(), scope.dialect) if by == Dimension.timeframe else GROUPED[by]
    # Grouped by the label: PostgreSQL would not match the two copies of a parametrised CASE.
    rows = scope.session.execute(
        select(column.label("key"), func.count()).where(*scope.where()).group_by("key")
    ).all()
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


def _period_start(moment: dt.datetime, period: Period) -> dt.date:
    day = moment.date()
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


def series(scope: Scope, event: Event, period: Period, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Issues reported (or resolved) per local day, week (from Monday) or month."""
    per_period = _fold(
        _per_hour(scope, EVENT_TIMES[event]), lambda moment: _period_start(moment, period), zone
    )
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


def _timing(scope: Scope, done: Any, due: Any) -> dict[str, Any]:
    minutes = (
        epoch_seconds(done, scope.dialect) - epoch_seconds(Issue.created_at, scope.dialect)
    ) // 60
    buckets = (
        select(
            minutes.label("minute"),
            func.count().label("n"),
            func.sum(case((done <= due, 1), else_=0)).label("met"),
        )
        .where(done.is_not(None), *scope.where())
        .group_by("minute")
        # Planned on its own: hashed, rather than sorting every row for the window below.
        .cte("buckets")
        .prefix_with("MATERIALIZED")
    )
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
    return _timing(scope, *STAGES[stage])
