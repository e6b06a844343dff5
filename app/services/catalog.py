"""Categories and agencies: what can be reported, and who handles it where."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app import i18n
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import Agency, Category, CategoryAttribute, City, Role, User
from app.schemas.problem import FieldProblem
from app.spatial.geojson import parse_area


def list_categories(session: Session, *, include_inactive: bool = False) -> list[Category]:
    query = (
        select(Category)
        .options(selectinload(Category.attributes))
        .order_by(Category.group, Category.code)
    )
    if not include_inactive:
        query = query.where(Category.is_active)
    return list(session.scalars(query))


def create_category(session: Session, **fields: Any) -> Category:
    if session.scalar(select(Category.id).where(Category.code == fields["code"])) is not None:
        raise Conflict(i18n.text("error.category.exists", code=repr(fields["code"])))
    attributes = [CategoryAttribute(**a) for a in fields.pop("attributes", [])]
    category = Category(**fields, attributes=attributes)
    session.add(category)
    session.flush()
    return category


def categories_by_code(session: Session, codes: Sequence[str], *, location: str) -> list[Category]:
    found = {c.code: c for c in session.scalars(select(Category).where(Category.code.in_(codes)))}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise ValidationFailed(
            f"Unknown category codes: {', '.join(unknown)}.",
            errors=[
                FieldProblem(
                    location=location, message=f"unknown category {c!r}", code="unknown_category"
                )
                for c in unknown
            ],
        )
    return [found[code] for code in dict.fromkeys(codes)]


def list_agencies(session: Session) -> list[Agency]:
    return list(
        session.scalars(
            select(Agency).options(selectinload(Agency.categories)).order_by(Agency.slug)
        )
    )


def get_agency(session: Session, agency_id: int) -> Agency:
    agency = session.scalar(
        select(Agency).where(Agency.id == agency_id).options(selectinload(Agency.categories))
    )
    if agency is None:
        raise NotFound(i18n.text("error.agency.not_found", id=agency_id))
    return agency


def create_agency(
    session: Session,
    *,
    slug: str,
    name_th: str,
    name_en: str,
    email: str | None,
    phone: str | None,
    category_codes: Sequence[str],
    jurisdiction: dict[str, Any],
) -> Agency:
    """A new agency with its jurisdiction; routing uses it for issues reported from now on."""
    area = parse_area(jurisdiction, location="body.jurisdiction")
    if session.scalar(select(Agency.id).where(Agency.slug == slug)) is not None:
        raise Conflict(i18n.text("error.agency.exists", slug=repr(slug)))
    agency = Agency(
        slug=slug,
        name_th=name_th,
        name_en=name_en,
        email=email,
        phone=phone,
        jurisdiction=area,
        categories=categories_by_code(session, category_codes, location="body.categories"),
    )
    session.add(agency)
    session.flush()
    return agency


def update_agency(
    session: Session, *, agency: Agency, editor: User, changes: dict[str, Any]
) -> Agency:
    """Admins edit any agency; managers edit their own agency's details and categories."""
    if not (
        editor.role == Role.admin or (editor.role == Role.manager and editor.agency_id == agency.id)
    ):
        raise Forbidden(i18n.text("error.agency.edit_who"))
    codes = changes.pop("categories", None)
    if codes is not None:
        agency.categories = categories_by_code(session, codes, location="body.categories")
    for name, value in changes.items():
        setattr(agency, name, value)
    session.flush()
    return agency


# The general category's code until a city file names its own (`city.general_category`).
GENERAL_CATEGORY_CODE = "general"
GENERAL_CATEGORY_NAMES = {"en": "Other problem", "th": "ปัญหาอื่น ๆ"}


def general_category_code(session: Session) -> str:
    """The code of the city's general category: reports that fit no other category (and
    imported reports whose category is unknown) land in it, and wait in the triage queue."""
    code = session.scalar(select(City.general_category_code))
    return code if code is not None else GENERAL_CATEGORY_CODE


def general_category(session: Session) -> Category:
    """The city's general category, created (with default names, handled by no agency) when
    the city has none yet."""
    code = general_category_code(session)
    category = session.scalar(select(Category).where(Category.code == code))
    if category is None:
        category = Category(
            code=code,
            group=code,
            names=dict(GENERAL_CATEGORY_NAMES),
            group_names=dict(GENERAL_CATEGORY_NAMES),
            name_th=GENERAL_CATEGORY_NAMES["th"],
            name_en=GENERAL_CATEGORY_NAMES["en"],
            keywords=[],
            flags=[],
            acknowledge_target_hours=48,
            resolve_target_hours=480,
            attributes=[],
        )
        session.add(category)
        session.flush()
    return category
