"""Public KPIs of the loop, as open data: each figure with a published definition, computed by
the database for issues reported in a period, overall or per agency, category or district.

Groups of fewer than K issues are suppressed (their figures are null): a figure about two or
three reports can point at the people who made them. Only published reports count: private ones,
those hidden by moderation and those awaiting triage or rejected in it are left out entirely.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    and_,
    case,
    exists,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session

from app.models import (
    Agency,
    Answer,
    Category,
    District,
    EventAction,
    Flag,
    Issue,
    IssueEvent,
    IssueFeedback,
    Resolution,
    issue_flag,
)
from app.services.issues import publicly_visible
from app.services.metrics import percentile, seconds_between

K = 5  # k-anonymity: groups smaller than this are suppressed


class GroupBy(StrEnum):
    agency = "agency"
    category = "category"
    district = "district"


@dataclass(frozen=True)
class Definition:
    code: str
    name: str
    formula: str
    unit: str
    population: str
    exclusions: str


POPULATION = "published issues reported in the period (and the group)"
# Every KPI leaves these out: a figure must not tell what no public surface shows.
UNPUBLISHED = (
    "private reports; reports hidden by moderation; reports awaiting triage before publishing "
    "or rejected in it"
)


def _excluding(*more: str) -> str:
    return "; ".join((UNPUBLISHED, *more))


DEFINITIONS = [
    Definition(
        "issues",
        "Issues reported",
        "count(issues)",
        "issues",
        POPULATION,
        _excluding(),
    ),
    *(
        Definition(
            f"{step}_{stat}_hours",
            f"{'Median' if stat == 'median' else '90th percentile'} time to {step}",
            f"{'percentile_cont(0.5)' if stat == 'median' else 'percentile_cont(0.9)'}"
            f"({done} - reported_at)",
            "hours",
            f"{POPULATION}, {done} set",
            _excluding("merged duplicates") if step == "resolve" else _excluding(),
        )
        for step, done in (("acknowledge", "acknowledged_at"), ("resolve", "resolved_at"))
        for stat in ("median", "p90")
    ),
    Definition(
        "acknowledge_on_time",
        "Share acknowledged on time",
        "count(acknowledged_at <= acknowledge_due_at) / count(acknowledged)",
        "share (0-1)",
        f"{POPULATION}, acknowledged",
        _excluding(),
    ),
    Definition(
        "resolve_on_time",
        "Share resolved on time",
        "count(resolved_at <= resolve_due_at) / count(resolved)",
        "share (0-1)",
        f"{POPULATION}, resolved now",
        _excluding("merged duplicates"),
    ),
    Definition(
        "reopen_rate",
        "Reopen rate",
        "count(reopened at least once) / count(ever resolved)",
        "share (0-1)",
        f"{POPULATION}, resolved at least once",
        _excluding(),
    ),
    Definition(
        "forwarding_rate",
        "Forwarding rate",
        "count(transferred at least once) / count(issues)",
        "share (0-1)",
        POPULATION,
        _excluding(),
    ),
    Definition(
        "agencies_per_issue",
        "Mean number of agencies per issue",
        "mean(distinct agencies that claimed it or received it by transfer)",
        "agencies",
        f"{POPULATION}, claimed or transferred at least once",
        _excluding("issues no agency ever took"),
    ),
    Definition(
        "first_contact_resolution",
        "First-contact resolution",
        "count(resolved, never reopened, never transferred) / count(resolved)",
        "share (0-1)",
        f"{POPULATION}, resolved now",
        _excluding("merged duplicates"),
    ),
    Definition(
        "repeat_contact_rate",
        "Repeat-contact rate",
        "count(reports merged as duplicates) / count(resolved)",
        "duplicates per resolved issue",
        f"{POPULATION}; denominator: resolved now, not duplicates",
        _excluding(),
    ),
    Definition(
        "satisfaction_stars",
        "Mean satisfaction",
        "mean(rating)",
        "stars (1-5)",
        f"reporters' ratings of resolutions of the {POPULATION}",
        _excluding("answers without a rating"),
    ),
    Definition(
        "satisfaction_fixed",
        'Share answered "fixed"',
        "count(answer = fixed) / count(answered fixed or not fixed)",
        "share (0-1)",
        f"reporters' answers to resolutions of the {POPULATION}",
        _excluding("ratings without an answer"),
    ),
    Definition(
        "loop_closure",
        "Loop closure",
        "count(ever resolved, and the reporter answered or rated a resolution) "
        "/ count(ever resolved)",
        "share (0-1)",
        f"{POPULATION}, resolved at least once",
        _excluding(),
    ),
]
CODES = [d.code for d in DEFINITIONS]


@dataclass(frozen=True)
class KpiFilter:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    agency_id: int | None = None
    category_id: int | None = None
    district_id: int | None = None
    # A segment (people with disabilities: accessibility; vulnerable people), as aggregates only.
    segment: Flag | None = None


def _scope(f: KpiFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [publicly_visible()]
    if f.since is not None:
        conditions.append(Issue.created_at >= f.since)
    if f.until is not None:
        conditions.append(Issue.created_at < f.until)
    for column, value in (
        (Issue.agency_id, f.agency_id),
        (Issue.category_id, f.category_id),
        (Issue.district_id, f.district_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if f.segment is not None:
        conditions.append(
            exists().where(issue_flag.c.issue_id == Issue.id, issue_flag.c.flag == f.segment)
        )
    return conditions


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def figures(session: Session, scope: list[ColumnElement[bool]]) -> dict[str, Any]:
    """Every KPI of the issues the scope selects."""
    dialect = session.get_bind().dialect.name
    duplicate = Issue.resolution == Resolution.duplicate
    resolved = and_(Issue.resolved_at.is_not(None), not_(duplicate))
    ever_resolved = or_(Issue.resolved_at.is_not(None), Issue.reopen_count > 0)
    transferred = exists().where(
        IssueEvent.issue_id == Issue.id, IssueEvent.action == EventAction.transferred
    )
    answered = exists().where(
        IssueFeedback.issue_id == Issue.id,
        or_(IssueFeedback.answer.is_not(None), IssueFeedback.rating.is_not(None)),
    )

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = session.execute(
        select(
            func.count().label("issues"),
            count_if(Issue.acknowledged_at.is_not(None)).label("acknowledged"),
            count_if(Issue.acknowledged_at <= Issue.acknowledge_due_at).label("ack_on_time"),
            count_if(resolved).label("resolved"),
            count_if(and_(resolved, Issue.resolved_at <= Issue.resolve_due_at)).label(
                "resolve_on_time"
            ),
            count_if(ever_resolved).label("ever_resolved"),
            count_if(Issue.reopen_count > 0).label("reopened"),
            count_if(transferred).label("transferred"),
            count_if(and_(resolved, Issue.reopen_count == 0, not_(transferred))).label("first"),
            count_if(Issue.duplicate_of_id.is_not(None)).label("merged"),
            count_if(and_(ever_resolved, answered)).label("closed_loops"),
        ).where(*scope)
    ).one()

    def hours(done: SQLColumnExpression[Any], *extra: ColumnElement[bool], q: float) -> Any:
        durations = select(seconds_between(dialect, Issue.created_at, done)).where(
            *scope, done.is_not(None), *extra
        )
        return _hours(percentile(session, durations, q))

    held = (
        select(IssueEvent.issue_id, func.count(func.distinct(IssueEvent.to_agency_id)).label("n"))
        .where(
            IssueEvent.action.in_((EventAction.claimed, EventAction.transferred)),
            IssueEvent.to_agency_id.is_not(None),
        )
        .group_by(IssueEvent.issue_id)
        .subquery()
    )
    agencies = session.scalar(
        select(func.avg(held.c.n)).join(Issue, Issue.id == held.c.issue_id).where(*scope)
    )
    feedback = session.execute(
        select(
            func.avg(IssueFeedback.rating),
            count_if(IssueFeedback.answer == Answer.fixed),
            count_if(IssueFeedback.answer.is_not(None)),
        )
        .join(Issue, Issue.id == IssueFeedback.issue_id)
        .where(*scope)
    ).one()
    return {
        "issues": row.issues,
        "acknowledge_median_hours": hours(Issue.acknowledged_at, q=0.5),
        "acknowledge_p90_hours": hours(Issue.acknowledged_at, q=0.9),
        "resolve_median_hours": hours(Issue.resolved_at, not_(duplicate), q=0.5),
        "resolve_p90_hours": hours(Issue.resolved_at, not_(duplicate), q=0.9),
        "acknowledge_on_time": _ratio(row.ack_on_time, row.acknowledged),
        "resolve_on_time": _ratio(row.resolve_on_time, row.resolved),
        "reopen_rate": _ratio(row.reopened, row.ever_resolved),
        "forwarding_rate": _ratio(row.transferred, row.issues),
        "agencies_per_issue": float(agencies) if agencies is not None else None,
        "first_contact_resolution": _ratio(row.first, row.resolved),
        "repeat_contact_rate": _ratio(row.merged, row.resolved),
        "satisfaction_stars": float(feedback[0]) if feedback[0] is not None else None,
        "satisfaction_fixed": _ratio(int(feedback[1]), int(feedback[2])),
        "loop_closure": _ratio(row.closed_loops, row.ever_resolved),
    }


def _suppressed(found: dict[str, Any]) -> dict[str, Any]:
    """Below K issues only the fact of suppression is published, not even the count."""
    if found["issues"] >= K:
        return {"suppressed": False, **found}
    return {"suppressed": True, **dict.fromkeys(found)}


def _complementary(groups: list[dict[str, Any]], counts: list[int]) -> None:
    """Secondary suppression: groups partition the overall figure, so one small group alone
    (or small groups holding fewer than K issues together) would be the total minus the
    published others. The smallest published groups are withheld until that is no longer so."""
    hidden = {i for i, g in enumerate(groups) if g["suppressed"]}

    def recoverable() -> bool:
        return bool(hidden) and (len(hidden) < 2 or sum(counts[i] for i in hidden) < K)

    by_size = sorted((i for i in range(len(groups)) if i not in hidden), key=counts.__getitem__)
    while recoverable() and by_size:
        smallest = by_size.pop(0)
        hidden.add(smallest)
        groups[smallest].update({"suppressed": True, **dict.fromkeys(CODES)})


_GROUPS = {
    GroupBy.agency: (Issue.agency_id, Agency.id, Agency.slug, Agency.name_th, Agency.name_en),
    GroupBy.category: (
        Issue.category_id,
        Category.id,
        Category.code,
        Category.name_th,
        Category.name_en,
    ),
    GroupBy.district: (
        Issue.district_id,
        District.id,
        District.code,
        District.name_th,
        District.name_en,
    ),
}


def report(session: Session, *, f: KpiFilter, by: GroupBy | None) -> dict[str, Any]:
    """The KPIs overall, and per group when asked; small groups suppressed. Issues with no
    agency (unclaimed) or no district form a group of their own, with a null code."""
    scope = _scope(f)
    result: dict[str, Any] = {"k": K, "overall": _suppressed(figures(session, scope))}
    if by is None:
        return result
    column, key_id, code, name_th, name_en = _GROUPS[by]
    keys = session.execute(
        select(column, code, name_th, name_en)
        .select_from(Issue)
        .outerjoin(key_id.table, key_id == column)
        .where(*scope)
        .group_by(column, code, name_th, name_en)
        .order_by(code)
    ).all()
    groups: list[dict[str, Any]] = []
    counts: list[int] = []
    for key, group_code, th, en in keys:
        condition = column.is_(None) if key is None else column == key
        found = figures(session, [*scope, condition])
        counts.append(found["issues"])
        groups.append(
            {by.value: {"code": group_code, "name_th": th, "name_en": en}, **_suppressed(found)}
        )
    # A segment's groups are about people (disabled, vulnerable); elsewhere each group's count
    # is public already (`/stats/counts`), so only segments need the secondary suppression.
    if f.segment is not None and not result["overall"]["suppressed"]:
        _complementary(groups, counts)
    result["by"] = by.value
    result["groups"] = groups
    return result
