"""Segments and priority: an issue's flags raise its priority, its priority scales its deadlines.

The rules live in the database (one `PriorityRules` row, built-in defaults until an admin saves
some), so a city tunes them without a release. Deadlines always count from the report time: a
changed priority moves them, it does not restart the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app import i18n
from app.errors import ValidationFailed
from app.models import Category, EventAction, Flag, Issue, Priority, PriorityRules, User, issue_flag
from app.models.base import utcnow
from app.schemas.problem import FieldProblem
from app.services import lifecycle

# Lowest first: "raised to at least" compares by this order.
ORDER = (Priority.low, Priority.normal, Priority.high, Priority.urgent)
# A report starts at normal; flags may only raise it.
BASE = Priority.normal


@dataclass(frozen=True)
class Rules:
    flag_priority: dict[Flag, Priority] = field(
        default_factory=lambda: {
            Flag.accessibility: Priority.high,
            Flag.vulnerable_people_affected: Priority.high,
            Flag.safety_hazard: Priority.urgent,
        }
    )
    target_factor: dict[Priority, float] = field(
        default_factory=lambda: {
            Priority.urgent: 0.25,
            Priority.high: 0.5,
            Priority.normal: 1.0,
            Priority.low: 1.5,
        }
    )
    at_risk_percent: int = 75
    updated_at: dt.datetime | None = None  # None: the built-in defaults

    def factor(self, priority: Priority) -> float:
        return self.target_factor.get(priority, 1.0)

    def minimum(self, flags: Iterable[Flag]) -> Priority:
        """The lowest priority the flags allow (any, without flags that say more)."""
        return highest(self.flag_priority.get(f, ORDER[0]) for f in flags)


def highest(priorities: Iterable[Priority]) -> Priority:
    return max(priorities, key=ORDER.index, default=ORDER[0])


def get_rules(session: Session) -> Rules:
    """The rules in force: the saved row, else the defaults."""
    row = session.get(PriorityRules, 1)
    if row is None:
        return Rules()
    return Rules(
        flag_priority={Flag(k): Priority(v) for k, v in row.flag_priority.items()},
        target_factor={Priority(k): float(v) for k, v in row.target_factor.items()},
        at_risk_percent=row.at_risk_percent,
        updated_at=row.updated_at,
    )


def save_rules(session: Session, *, rules: Rules, admin: User) -> Rules:
    """Replace the rules; issues already reported keep their deadlines until reprioritised."""
    row = session.get(PriorityRules, 1)
    if row is None:
        row = PriorityRules(id=1)
        session.add(row)
    row.flag_priority = {k.value: v.value for k, v in rules.flag_priority.items()}
    row.target_factor = {k.value: v for k, v in rules.target_factor.items()}
    row.at_risk_percent = rules.at_risk_percent
    row.updated_at = utcnow()
    row.updated_by_id = admin.id
    session.flush()
    return get_rules(session)


def deadlines(
    *, reported_at: dt.datetime, category: Category, priority: Priority, rules: Rules
) -> tuple[dt.datetime, dt.datetime]:
    """(acknowledge by, resolve by): the category's targets scaled for the priority."""
    factor = rules.factor(priority)
    return (
        reported_at
        + dt.timedelta(seconds=round(category.acknowledge_target_hours * 3600 * factor)),
        reported_at + dt.timedelta(seconds=round(category.resolve_target_hours * 3600 * factor)),
    )


def flags_of(session: Session, issue: Issue) -> list[Flag]:
    return sorted(
        session.scalars(select(issue_flag.c.flag).where(issue_flag.c.issue_id == issue.id)),
        key=list(Flag).index,
    )


def flags_by_issue(session: Session, issue_ids: Collection[int]) -> dict[int, list[Flag]]:
    found: dict[int, list[Flag]] = {i: [] for i in issue_ids}
    if issue_ids:
        for issue_id, flag in session.execute(
            select(issue_flag.c.issue_id, issue_flag.c.flag)
            .where(issue_flag.c.issue_id.in_(issue_ids))
            .order_by(issue_flag.c.issue_id, issue_flag.c.flag)
        ):
            found[issue_id].append(flag)
    return found


def store_flags(session: Session, issue: Issue, flags: Collection[Flag]) -> None:
    """Replace the issue's flags (it must be flushed: the rows need its id)."""
    session.execute(delete(issue_flag).where(issue_flag.c.issue_id == issue.id))
    add_flags(session, issue, flags)


def add_flags(session: Session, issue: Issue, flags: Collection[Flag]) -> None:
    """Give a flushed issue that has none yet (a new report) these flags: nothing to delete."""
    if flags:
        session.execute(insert(issue_flag), [{"issue_id": issue.id, "flag": f} for f in flags])


@dataclass(frozen=True)
class Assessment:
    flags: frozenset[Flag]
    priority: Priority
    acknowledge_due_at: dt.datetime
    resolve_due_at: dt.datetime
    # Of the rules the deadlines came from: when the new issue counts as at risk.
    at_risk_percent: int


def assess_report(
    session: Session, *, category: Category, stated: Collection[Flag], reported_at: dt.datetime
) -> Assessment:
    """A new issue's flags (the category's defaults and what the reporter stated), the priority
    they call for, and the deadlines that follow."""
    rules = get_rules(session)
    flags = frozenset({Flag(f) for f in category.flags} | set(stated))
    priority = highest((BASE, rules.minimum(flags)))
    acknowledge_by, resolve_by = deadlines(
        reported_at=reported_at, category=category, priority=priority, rules=rules
    )
    return Assessment(flags, priority, acknowledge_by, resolve_by, rules.at_risk_percent)


def reprioritise(
    session: Session,
    *,
    issue: Issue,
    editor: User,
    priority: Priority | None,
    flags: Collection[Flag] | None,
) -> bool:
    """Handling staff change the priority and/or flags: the priority may not fall below what the
    flags require; the deadlines are recomputed from the report time and the followers (the
    reporter among them) are told the new dates by a `priority_changed` event. False if nothing
    changed."""
    rules = get_rules(session)
    old_flags = set(flags_of(session, issue))
    new_flags = set(flags) if flags is not None else old_flags
    floor = rules.minimum(new_flags)
    wanted = priority if priority is not None else highest((issue.priority, floor))
    if ORDER.index(wanted) < ORDER.index(floor):
        raise ValidationFailed(
            i18n.text("priority.below_flags", priority=wanted.value, minimum=floor.value),
            errors=[
                FieldProblem(
                    location="body.priority", message="below the flags' minimum", code="too_low"
                )
            ],
        )
    if wanted == issue.priority and new_flags == old_flags:
        return False
    category = session.get(Category, issue.category_id)
    assert category is not None
    old_priority = issue.priority
    issue.priority = wanted
    issue.acknowledge_due_at, issue.resolve_due_at = deadlines(
        reported_at=issue.created_at, category=category, priority=wanted, rules=rules
    )
    if new_flags != old_flags:
        store_flags(session, issue, new_flags)
    lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.priority_changed,
        actor=editor,
        from_status=issue.status,
        message=i18n.text(
            "message.priority_changed",
            old=i18n.text(f"label.priority.{old_priority.value}"),
            new=i18n.text(f"label.priority.{wanted.value}"),
            flags=[i18n.text(f"label.flag.{f.value}") for f in sorted(new_flags)]
            or i18n.text("message.no_flags"),
        ),
    )
    session.flush()
    return True
