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
from app.spatial.geojson import area_geometry, display_area, parse_area


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


def feature(
    district: District, *, zoom: int | None = None, repaired: str | None = None
) -> dict[str, Any]:
    """RFC 7946 Feature; its id is the district code. `zoom`: the outline as a map at that zoom
    shows it (`display_area`), else in full. `repaired`: why the polygon as sent needed repair
    (said once, in the answer to the write)."""
    properties: dict[str, Any] = {
        "code": district.code,
        "name_th": district.name_th,
        "name_en": district.name_en,
        "names": district.names,
    }
    if repaired is not None:
        properties["repaired"] = i18n.t("district.repaired", i18n.current(), reason=repaired)
    return {
        "type": "Feature",
        "id": district.code,
        "geometry": area_geometry(
            district.area if zoom is None else display_area(district.area, zoom)
        ),
        "properties": properties,
    }


def put_districts(
    session: Session,
    *,
    features: Sequence[tuple[str, dict[str, str], dict[str, Any]]],
    editor: User,
) -> tuple[list[District], list[str], dict[str, str]]:
    """Create or update districts from (code, names, geometry) triples, all or none. Names need
    the city's default language (English before a city file set one); the others fall back to
    it. An invalid polygon is repaired when the repair is unambiguous (`parse_area`). Issues
    already placed keep their district; new reports use the new areas. Returns the districts,
    the codes that changed and, by code, why a polygon needed repair."""
    default = session.scalar(select(City.default_language)) or "en"
    problems: list[FieldProblem] = []
    areas = []
    repaired: dict[str, str] = {}
    for i, (code, names, geometry) in enumerate(features):
        repairs: list[str] = []
        try:
            location = f"body.features[{i}].geometry"
            areas.append(parse_area(geometry, location=location, repairs=repairs))
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
        if repairs:
            repaired[code] = "; ".join(repairs)
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
            "districts %s written by %s (repaired: %s)",
            changed,
            editor.id,
            repaired,
            extra={
                "action": "district.written",
                "actor_id": editor.id,
                "districts": changed,
                "repaired": repaired,
            },
        )
    return written, changed, repaired
