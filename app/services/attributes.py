"""Category attributes (Open311 service-definition questions): the one check of the answers."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from app import i18n
from app.errors import FieldText, InvalidAttributes, fields_detail
from app.models import AttributeDatatype, CategoryAttribute

Answers = Mapping[str, str | Sequence[str]]
MAX_TEXT = {AttributeDatatype.string: 500, AttributeDatatype.text: 4000}


def _values(answer: str | Sequence[str]) -> list[str]:
    raw = [answer] if isinstance(answer, str) else list(answer)
    # Open311: an empty parameter is the same as an absent one.
    return [v.strip() for v in raw if v.strip()]


def _check(attribute: CategoryAttribute, values: list[str]) -> tuple[Any, i18n.Text | None]:
    """The stored form of one answer, or why it is not acceptable."""
    datatype = attribute.datatype
    if datatype.is_list:
        keys = [str(v["key"]) for v in attribute.values]
        outside = [v for v in values if v not in keys]
        if outside:
            return None, i18n.text(
                "error.attribute.not_among",
                values=", ".join(map(repr, outside)),
                keys=", ".join(keys),
            )
        if datatype == AttributeDatatype.multivaluelist:
            return list(dict.fromkeys(values)), None
    if len(values) > 1:
        return None, i18n.text("error.attribute.one_value")
    value = values[0]
    if datatype == AttributeDatatype.number:
        try:
            number = float(value)
        except ValueError:
            return None, i18n.text("error.attribute.not_number", value=repr(value))
        if not math.isfinite(number):
            return None, i18n.text("error.attribute.not_finite", value=repr(value))
        return (int(number) if number.is_integer() else number), None
    if datatype == AttributeDatatype.datetime:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None, i18n.text("error.attribute.not_datetime", value=repr(value))
        if moment.tzinfo is None:
            return None, i18n.text("error.attribute.no_timezone", value=repr(value))
        return moment.isoformat(), None
    limit = MAX_TEXT.get(datatype)
    if limit is not None and len(value) > limit:
        return None, i18n.text("error.attribute.too_long", limit=limit)
    if datatype == AttributeDatatype.string and "\n" in value:
        return None, i18n.text("error.attribute.single_line")
    return value, None


def _problem(location: str, code: str, message: i18n.Text, kind: str) -> FieldText:
    return FieldText(location.format(code=code), message, kind)


def validate(
    definitions: Sequence[CategoryAttribute], answers: Answers, *, location: str
) -> dict[str, Any]:
    """Answers as stored: every required question answered, none unknown or informational,
    list answers among the listed keys, numbers and datetimes (with a timezone) well-formed.

    `location` names an answer in errors, e.g. "body.attributes.{code}"."""
    problems: list[FieldText] = []
    by_code = {a.code: a for a in definitions}
    checked: dict[str, Any] = {}
    for code, answer in answers.items():
        attribute = by_code.get(code)
        values = _values(answer)
        if not values:
            continue
        if attribute is None:
            problems.append(
                _problem(location, code, i18n.text("error.attribute.unknown"), "unknown_attribute")
            )
            continue
        if not attribute.variable:
            problems.append(
                _problem(
                    location, code, i18n.text("error.attribute.informational"), "not_a_question"
                )
            )
            continue
        value, error = _check(attribute, values)
        if error is not None:
            problems.append(_problem(location, code, error, "invalid_value"))
        else:
            checked[code] = value
    reported = {p.location for p in problems}
    problems += [
        _problem(
            location,
            a.code,
            i18n.text("error.attribute.required", question=a.description),
            "missing",
        )
        for a in definitions
        if a.variable
        and a.required
        and a.code not in checked
        and location.format(code=a.code) not in reported
    ]
    if problems:
        raise InvalidAttributes(fields_detail(problems), errors=problems)
    return checked
