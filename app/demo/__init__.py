"""A demo city: Bangkok's 50 districts as agencies, city-wide departments, categories, staff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from shapely.geometry import MultiPolygon, shape
from shapely.ops import unary_union
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Agency, Category, CategoryAttribute, District, Role, User
from app.security import hash_password

DEMO_EMAIL_DOMAIN = "demo.civicloop.example"
# The source drops the final character of this one district name (see ATTRIBUTION.md).
THAI_NAME_FIXES = {"ป้อมปราบศัตรูพ่า": "ป้อมปราบศัตรูพ่าย"}


@dataclass
class DemoSummary:
    categories: int
    agencies: int
    users: int
    districts: int


def _read(name: str) -> Any:
    return json.loads((files("app.demo") / name).read_text(encoding="utf-8"))


def _multipolygon(geometry: Any) -> MultiPolygon:
    return geometry if isinstance(geometry, MultiPolygon) else MultiPolygon([geometry])


def district_code(name_en: str) -> str:
    return name_en.lower().replace(" ", "-")


def district_slug(name_en: str) -> str:
    """The district office's agency slug."""
    return "district-" + district_code(name_en)


def load_demo_city(session: Session, *, password: str) -> DemoSummary:
    """Create what is missing (re-running adds nothing twice); every demo user gets `password`."""
    existing_codes = set(session.scalars(select(Category.code)))
    owners: dict[str, list[str]] = {}
    categories: dict[str, Category] = {c.code: c for c in session.scalars(select(Category))}
    new_categories = 0
    for raw in _read("categories.json"):
        owner = raw.pop("owner")
        owners[raw["code"]] = owner if isinstance(owner, list) else [owner]
        attributes = [CategoryAttribute(**a) for a in raw.pop("attributes", [])]
        if raw["code"] not in existing_codes:
            categories[raw["code"]] = Category(**raw, attributes=attributes)
            session.add(categories[raw["code"]])
            new_categories += 1

    def handled_by(key: str) -> list[Category]:
        return [categories[code] for code, keys in owners.items() if key in keys]

    existing_slugs = set(session.scalars(select(Agency.slug)))
    layout = _read("agencies.json")
    districts = _read("bangkok-districts.geojson")["features"]
    existing_districts = set(session.scalars(select(District.code)))
    new_districts = [
        District(
            code=district_code(f["properties"]["ADM2_EN"]),
            name_th=THAI_NAME_FIXES.get(f["properties"]["ADM2_TH"], f["properties"]["ADM2_TH"]),
            name_en=f["properties"]["ADM2_EN"],
            area=_multipolygon(shape(f["geometry"])),
        )
        for f in districts
        if district_code(f["properties"]["ADM2_EN"]) not in existing_districts
    ]
    session.add_all(new_districts)
    agencies: list[Agency] = []
    for feature in districts:
        props = feature["properties"]
        name_th = THAI_NAME_FIXES.get(props["ADM2_TH"], props["ADM2_TH"])
        agencies.append(
            Agency(
                slug=district_slug(props["ADM2_EN"]),
                name_th=layout["district"]["name_th"].format(name_th=name_th),
                name_en=layout["district"]["name_en"].format(name_en=props["ADM2_EN"]),
                phone="1555",
                jurisdiction=_multipolygon(shape(feature["geometry"])),
                categories=handled_by("district"),
            )
        )
    city = _multipolygon(unary_union([shape(f["geometry"]) for f in districts]))
    for department in layout["citywide"]:
        agencies.append(
            Agency(
                slug=department["slug"],
                name_th=department["name_th"],
                name_en=department["name_en"],
                phone=department["phone"],
                jurisdiction=city,
                categories=handled_by(department["key"]),
            )
        )
    new_agencies = [a for a in agencies if a.slug not in existing_slugs]
    session.add_all(new_agencies)
    session.flush()

    password_hash = hash_password(password)  # one hash for all demo users: same password
    existing_emails = set(session.scalars(select(User.email)))
    users = [User(email=f"admin@{DEMO_EMAIL_DOMAIN}", display_name="Demo admin", role=Role.admin)]
    for agency in new_agencies:
        for role in (Role.manager, Role.agent):
            users.append(
                User(
                    email=f"{role}.{agency.slug}@{DEMO_EMAIL_DOMAIN}",
                    display_name=f"{agency.name_en} {role}",
                    role=role,
                    agency_id=agency.id,
                )
            )
    new_users = [u for u in users if u.email not in existing_emails]
    for user in new_users:
        user.password_hash = password_hash
    session.add_all(new_users)
    session.flush()
    return DemoSummary(
        categories=new_categories,
        agencies=len(new_agencies),
        users=len(new_users),
        districts=len(new_districts),
    )
