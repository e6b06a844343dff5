"""Emergencies are not reports. A category marked emergency, or an answer marked emergency in a
category's question ("is anyone in danger?" → yes), stops the report on every channel — the
JSON API, Open311 and the pages all create issues through `issues.create_issue`, which asks
here first — and says which number to call where the point is: its district's emergency number,
else the city's (the city file's or an admin's, else CIVICLOOP_EMERGENCY_NUMBER). Each stop is
counted, though the refusal rolls the request back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import i18n
from app.db import on_rollback
from app.errors import EmergencyReport, FieldText, ValidationFailed
from app.models import Category, City, District, EmergencyStop, User
from app.services.catalog import audit

# A key of `set_numbers`' arguments that is absent: leave the number as it is.
KEEP = object()


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
    """The emergency number of the point's jurisdiction: its district's, else the city's, else
    the deployment's (`fallback`, a setting)."""
    if district_id is not None:
        number = session.scalar(select(District.emergency_number).where(District.id == district_id))
        if number:
            return number
    return _city_number(session) or fallback or None


def _city_number(session: Session) -> str | None:
    return session.scalar(select(City.emergency_number).order_by(City.id).limit(1))


def numbers(session: Session, *, fallback: str | None) -> dict[str, object]:
    """The city's number (as `number_at` falls back to it) and each district's own."""
    own = session.execute(
        select(District.code, District.emergency_number)
        .where(District.emergency_number.is_not(None))
        .order_by(District.code)
    ).all()
    return {
        "city": _city_number(session) or fallback or None,
        "districts": dict(own),
    }


def set_numbers(
    session: Session,
    *,
    city: str | object | None = KEEP,
    districts: Mapping[str, str | None],
    editor: User,
) -> None:
    """Write the city's number (`KEEP`: as it is) and districts' own numbers (None: the city's
    applies there); all or none, audited. The city's needs a city file applied first."""
    problems: list[FieldText] = []
    row = session.scalar(select(City).order_by(City.id).limit(1))
    if city is not KEEP and row is None:
        problems.append(
            FieldText("body.city", i18n.text("error.emergency_numbers.no_city"), "no_city")
        )
    stored = {
        d.code: d for d in session.scalars(select(District).where(District.code.in_(districts)))
    }
    problems += [
        FieldText(
            f"body.districts.{code}",
            i18n.text("error.district.not_found", code=repr(code)),
            "unknown",
        )
        for code in districts
        if code not in stored
    ]
    if problems:
        raise ValidationFailed(i18n.text("error.emergency_numbers.invalid"), errors=problems)
    if row is not None and city is not KEEP:
        row.emergency_number = city if isinstance(city, str) else None
    for code, number in districts.items():
        stored[code].emergency_number = number
    session.flush()
    audit.info(
        "emergency numbers written by %s",
        editor.id,
        extra={
            "action": "emergency_numbers.written",
            "actor_id": editor.id,
            "districts": sorted(districts),
            "city": city is not KEEP,
        },
    )


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
