"""Districts: the areas reports are placed in and statistics are broken down by."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from app import i18n
from app.errors import NotFound, ValidationFailed
from app.models import City, District, User
from app.schemas.problem import FieldProblem
from app.services.catalog import audit
from app.spatial.geojson import area_geometry, parse_area


def list_districts(session: Session) -> list[District]:
    return list(
        session.scalars(select(District).options(undefer(District.area)).order_by(District.code))
    )


def get_district(session: Session, code: str) -> District:
    district = session.scalar(
        select(District).where(District.code == code).options(undefer(District.area))
    )
    if district is None:
        raise NotFound(i18n.text("error.district.not_found", code=repr(code)))
    return district


def feature(district: District) -> dict[str, Any]:
    """RFC 7946 Feature; its id is the district code."""
    return {
        "type": "Feature",
        "id": district.code,
        "geometry": area_geometry(district.area),
        "properties": {
            "code": district.code,
            "name_th": district.name_th,
            "name_en": district.name_en,
            "names": district.names,
        },
    }


def put_districts(
    session: Session,
    *,
    features: Sequence[tuple[str, dict[str, str], dict[str, Any]]],
    editor: User,
) -> tuple[list[District], list[str]]:
    """Create or update districts from (code, names, geometry) triples, all or none. Names need
    the city's default language (English before a city file set one); the others fall back to
    it. Issues already placed keep their district; new reports use the new areas. Returns the
    districts and the codes that changed."""
    default = session.scalar(select(City.default_language)) or "en"
    problems: list[FieldProblem] = []
    areas = []
    for i, (_, names, geometry) in enumerate(features):
        try:
            areas.append(parse_area(geometry, location=f"body.features[{i}].geometry"))
        except ValidationFailed as refused:
            problems.extend(refused.errors_in(i18n.current()))
        if default not in names:
            problems.append(
                FieldProblem(
                    location=f"body.features[{i}].properties.names",
                    message=f"a name in the city's default language ({default}) is required",
                    code="missing_default_language",
                )
            )
    if problems:
        raise ValidationFailed(i18n.text("error.district.invalid"), errors=problems)
    stored = {
        d.code: d
        for d in session.scalars(
            select(District)
            .where(District.code.in_([code for code, _, _ in features]))
            .options(undefer(District.area))
        )
    }
    written: list[District] = []
    changed: list[str] = []
    for (code, names, _), area in zip(features, areas, strict=True):
        wanted = {
            "names": dict(names),
            "name_th": names.get("th", names[default]),
            "name_en": names.get("en", names[default]),
        }
        district = stored.get(code)
        if district is None:
            district = District(code=code, area=area, **wanted)
            session.add(district)
            stored[code] = district
            changed.append(code)
        else:
            differs = not shapely.equals(district.area, area) or any(
                getattr(district, k) != v for k, v in wanted.items()
            )
            if differs:
                district.area = area
                for name, value in wanted.items():
                    setattr(district, name, value)
                changed.append(code)
        written.append(district)
    session.flush()
    if changed:
        audit.info(
            "districts %s written by %s",
            changed,
            editor.id,
            extra={"action": "district.written", "actor_id": editor.id, "districts": changed},
        )
    return written, changed
