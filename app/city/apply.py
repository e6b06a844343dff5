"""Make the database match a loaded city file, and say what changed.

Entities are matched by their keys (district id, category code, agency slug); a field is written
only when its value differs, so applying the same file again changes nothing. Agencies and
categories the file no longer lists are deactivated (never deleted: their history stays);
districts it no longer lists are kept. When routing changed, open issues nobody has claimed are
re-routed (`routing.reroute_unclaimed`). The caller owns the transaction: commit to apply,
roll back for a dry run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, undefer

from app.city.parse import LoadedCity
from app.city.schema import AgencySpec, CategorySpec
from app.models import Agency, Category, CategoryAttribute, City, District, User
from app.services import routing
from app.spatial import SpatialBackend


@dataclass(frozen=True)
class Change:
    action: str  # create | update | deactivate | reroute
    kind: str  # city | district | category | agency | issue
    key: str
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        detail = f": {', '.join(self.fields)}" if self.fields else ""
        return f"{self.action} {self.kind} {self.key}{detail}"


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, shapely.Geometry) or isinstance(new, shapely.Geometry):
        return old is not None and new is not None and bool(shapely.equals(old, new))
    return bool(old == new)


def _write(entity: Any, wanted: dict[str, Any]) -> tuple[str, ...]:
    changed = tuple(
        name for name, value in wanted.items() if not _same(getattr(entity, name), value)
    )
    for name in changed:
        setattr(entity, name, wanted[name])
    return changed


def _group_code(group: dict[str, str] | str, default_language: str) -> str:
    if isinstance(group, str):
        return group
    name = group.get("en", group[default_language])
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64]
    return slug or "group-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def _category_fields(city: LoadedCity, spec: CategorySpec) -> dict[str, Any]:
    name_th, name_en = city.pair(spec.name)
    described = {city.default_language: "", **spec.description}
    description_th, description_en = city.pair(described)
    return {
        "group": _group_code(spec.group, city.default_language),
        "names": dict(spec.name),
        "group_names": dict(spec.group) if isinstance(spec.group, dict) else {},
        "name_th": name_th,
        "name_en": name_en,
        "description_th": description_th,
        "description_en": description_en,
        "keywords": list(spec.keywords),
        "flags": [f.value for f in spec.flags],
        "acknowledge_target_hours": spec.targets.acknowledge_hours,
        "resolve_target_hours": spec.targets.resolve_hours,
        "is_active": spec.active,
        "review_before_publish": spec.review_before_publish,
    }


def _attributes(spec: CategorySpec) -> list[dict[str, Any]]:
    return [
        {
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "variable": a.variable,
            "order": a.order,
            "description": a.description,
            "datatype_description": a.datatype_description,
            "values": [v.model_dump() for v in a.values],
        }
        for a in spec.attributes
    ]


def _stored_attributes(category: Category) -> list[dict[str, Any]]:
    return [
        {
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "variable": a.variable,
            "order": a.order,
            "description": a.description,
            "datatype_description": a.datatype_description,
            "values": a.values,
        }
        for a in category.attributes
    ]


def _agency_fields(city: LoadedCity, spec: AgencySpec) -> dict[str, Any]:
    name_th, name_en = city.pair(spec.name)
    return {
        "names": dict(spec.name),
        "name_th": name_th,
        "name_en": name_en,
        "email": spec.email,
        "phone": spec.phone,
        "is_active": spec.active,
        "jurisdiction": city.jurisdictions[spec.slug],
    }


def _city(session: Session, city: LoadedCity) -> list[Change]:
    section = city.spec.city
    wanted = {
        "names": dict(section.name),
        "default_language": section.default_language,
        "languages": city.languages,
        "time_zone": section.time_zone,
        "general_category_code": section.general_category.code,
        "emergency_number": section.emergency_number,
    }
    row = session.scalar(select(City).order_by(City.id).limit(1))
    if row is None:
        session.add(City(**wanted))
        return [Change("create", "city", section.name[section.default_language])]
    changed = _write(row, wanted)
    return (
        [Change("update", "city", section.name[section.default_language], changed)]
        if changed
        else []
    )


def _districts(session: Session, city: LoadedCity) -> list[Change]:
    changes: list[Change] = []
    stored = {d.code: d for d in session.scalars(select(District).options(undefer(District.area)))}
    for state in city.districts:
        name_th, name_en = city.pair(state.names or {city.default_language: state.code})
        wanted = {
            "names": state.names,
            "name_th": name_th,
            "name_en": name_en,
            "area": state.area,
            "emergency_number": state.emergency_number,
        }
        row = stored.get(state.code)
        if row is None:
            session.add(District(code=state.code, **wanted))
            changes.append(Change("create", "district", state.code))
        elif changed := _write(row, wanted):
            changes.append(Change("update", "district", state.code, changed))
    return changes


def _categories(session: Session, city: LoadedCity) -> tuple[list[Change], dict[str, Category]]:
    changes: list[Change] = []
    stored = {
        c.code: c
        for c in session.scalars(select(Category).options(selectinload(Category.attributes)))
    }
    for spec in city.categories:
        wanted = _category_fields(city, spec)
        attributes = _attributes(spec)
        row = stored.get(spec.code)
        if row is None:
            row = Category(
                code=spec.code, **wanted, attributes=[CategoryAttribute(**a) for a in attributes]
            )
            session.add(row)
            stored[spec.code] = row
            changes.append(Change("create", "category", spec.code))
            continue
        changed = _write(row, wanted)
        if _stored_attributes(row) != attributes:
            # Old questions go first: the new ones may reuse their codes and display orders.
            row.attributes.clear()
            session.flush()
            row.attributes.extend(CategoryAttribute(**a) for a in attributes)
            changed = (*changed, "attributes")
        if changed:
            changes.append(Change("update", "category", spec.code, changed))
    listed = {c.code for c in city.categories}
    for code, row in sorted(stored.items()):
        if code not in listed and row.is_active:
            row.is_active = False
            changes.append(Change("deactivate", "category", code))
    return changes, stored


def _agencies(session: Session, city: LoadedCity, categories: dict[str, Category]) -> list[Change]:
    changes: list[Change] = []
    stored = {
        a.slug: a for a in session.scalars(select(Agency).options(selectinload(Agency.categories)))
    }
    for spec in city.spec.agencies:
        wanted = _agency_fields(city, spec)
        handled = [categories[code] for code in dict.fromkeys(spec.categories)]
        row = stored.get(spec.slug)
        if row is None:
            session.add(Agency(slug=spec.slug, **wanted, categories=handled))
            changes.append(Change("create", "agency", spec.slug))
            continue
        changed = _write(row, wanted)
        if {c.code for c in row.categories} != {c.code for c in handled}:
            row.categories = handled
            changed = (*changed, "categories")
        if changed:
            changes.append(Change("update", "agency", spec.slug, changed))
    listed = {a.slug for a in city.spec.agencies}
    for slug, row in sorted(stored.items()):
        if slug not in listed and row.is_active:
            row.is_active = False
            changes.append(Change("deactivate", "agency", slug))
    return changes


def apply(
    session: Session, *, city: LoadedCity, spatial: SpatialBackend, actor: User | None = None
) -> list[Change]:
    """Every change made, in order; an empty list when the database already matches."""
    changes = _city(session, city)
    changes += _districts(session, city)
    category_changes, categories = _categories(session, city)
    changes += category_changes
    changes += _agencies(session, city, categories)
    session.flush()
    routing_changed = any(
        c.kind == "agency"
        or (c.kind == "category" and (c.action == "deactivate" or "is_active" in c.fields))
        for c in changes
    )
    if routing_changed:
        moved = routing.reroute_unclaimed(session, spatial=spatial, actor=actor)
        changes += [Change("reroute", "issue", issue.public_id) for issue in moved]
        session.flush()
    return changes
