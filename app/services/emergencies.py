"""Emergencies are not reports. A category marked emergency, or an answer marked emergency in a
category's question ("is anyone in danger?" → yes), stops the report on every channel — the
JSON API, Open311 and the pages all create issues through `issues.create_issue`, which asks
here first — and says which number to call where the point is: its district's emergency number,
else the city's (CIVICLOOP_EMERGENCY_NUMBER). Each stop is counted, though the refusal rolls
the request back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import i18n
from app.db import on_rollback
from app.errors import EmergencyReport
from app.models import Category, District, EmergencyStop


@dataclass(frozen=True)
class Trigger:
    """What made the report an emergency: the category itself, or this question's answer."""

    attribute_code: str | None


def trigger(category: Category, answers: Mapping[str, str | Sequence[str]]) -> Trigger | None:
    """The category, or the first answer, marked emergency; None for an ordinary report.
    Needs category.attributes loaded."""
    if category.emergency:
        return Trigger(attribute_code=None)
    for attribute in category.attributes:
        given = answers.get(attribute.code)
        chosen = {given} if isinstance(given, str) else set(given or ())
        if any(v.get("emergency") and v["key"] in chosen for v in attribute.values):
            return Trigger(attribute_code=attribute.code)
    return None


def number_at(session: Session, *, district_id: int | None, fallback: str | None) -> str | None:
    """The emergency number of the point's jurisdiction: its district's, else the city's."""
    if district_id is not None:
        number = session.scalar(select(District.emergency_number).where(District.id == district_id))
        if number:
            return number
    return fallback or None


def stop_if_emergency(
    session: Session,
    *,
    category: Category,
    answers: Mapping[str, str | Sequence[str]],
    district_id: int | None,
    channel: str,
    fallback_number: str | None,
) -> None:
    """Refuse an emergency with the number to call (422 `emergency`), and count it."""
    found = trigger(category, answers)
    if found is None:
        return
    stop = {
        "category_id": category.id,
        "district_id": district_id,
        "channel": channel,
        "attribute_code": found.attribute_code,
    }
    bind = session.get_bind()

    def count() -> None:
        # The refusal rolls the request back; the count is its own short transaction after it.
        with Session(bind) as own, own.begin():
            own.add(EmergencyStop(**stop))

    on_rollback(session, count)
    number = number_at(session, district_id=district_id, fallback=fallback_number)
    if number is None:
        raise EmergencyReport(i18n.text("error.emergency.local"), emergency_number=None)
    raise EmergencyReport(i18n.text("error.emergency.call", number=number), emergency_number=number)


def counts(session: Session) -> dict[str, object]:
    """Stopped emergencies: the total, per category and per channel."""
    total = session.scalar(select(func.count(EmergencyStop.id))) or 0
    by_category = session.execute(
        select(Category.code, func.count(EmergencyStop.id))
        .join(Category, Category.id == EmergencyStop.category_id)
        .group_by(Category.code)
        .order_by(func.count(EmergencyStop.id).desc(), Category.code)
    ).all()
    by_channel = session.execute(
        select(EmergencyStop.channel, func.count(EmergencyStop.id))
        .group_by(EmergencyStop.channel)
        .order_by(EmergencyStop.channel)
    ).all()
    return {
        "total": total,
        "by_category": [{"category": code, "count": n} for code, n in by_category],
        "by_channel": [{"channel": channel, "count": n} for channel, n in by_channel],
    }
