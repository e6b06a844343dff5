"""Categories and agencies: what can be reported, and who handles it where."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app import i18n
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import Agency, Category, CategoryAttribute, City, Issue, Role, User
from app.models.types import LonLat
from app.schemas.problem import FieldProblem
from app.services import routing
from app.spatial import SpatialBackend
from app.spatial.geojson import parse_area

audit = logging.getLogger("civicloop.audit")


def list_categories(session: Session, *, include_inactive: bool = False) -> list[Category]:
    query = (
        select(Category)
        .options(selectinload(Category.attributes))
        .order_by(Category.group, Category.code)
    )
    if not include_inactive:
        query = query.where(Category.is_active)
    return list(session.scalars(query))


def offered_categories(
    session: Session, *, spatial: SpatialBackend, at: LonLat | None
) -> list[Category]:
    """Active categories; at a point, only those some active agency covering it handles, and
    the general category (so that no report is refused for want of a category)."""
    categories = list_categories(session)
    if at is None:
        return categories
    handled = spatial.covering_category_ids(session, point=at)
    general = general_category_code(session)
    return [c for c in categories if c.id in handled or c.code == general]


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


# Changes that decide which queues an issue appears in: admins only, and open issues nobody has
# claimed are re-routed after them.
ROUTING_FIELDS = frozenset({"jurisdiction", "is_active"})


def update_agency(
    session: Session,
    *,
    agency: Agency,
    editor: User,
    changes: dict[str, Any],
    spatial: SpatialBackend,
) -> list[Issue]:
    """Admins edit any agency; managers edit their own agency's details and categories. A new
    jurisdiction, a deactivation or new categories re-route the open issues nobody has claimed
    (each gets an internal `rerouted` event); the re-routed issues are returned."""
    if not (
        editor.role == Role.admin or (editor.role == Role.manager and editor.agency_id == agency.id)
    ):
        raise Forbidden(i18n.text("error.agency.edit_who"))
    if ROUTING_FIELDS & changes.keys() and editor.role != Role.admin:
        raise Forbidden(i18n.text("error.agency.routing_who"))
    changes = dict(changes)
    reroute = False
    codes = changes.pop("categories", None)
    if codes is not None:
        handled = categories_by_code(session, codes, location="body.categories")
        reroute = {c.id for c in handled} != {c.id for c in agency.categories}
        agency.categories = handled
    if "jurisdiction" in changes:
        area = parse_area(changes.pop("jurisdiction"), location="body.jurisdiction")
        if not shapely.equals(area, agency.jurisdiction):
            agency.jurisdiction = area
            reroute = True
    if "is_active" in changes:
        active = changes.pop("is_active")
        reroute = reroute or active != agency.is_active
        agency.is_active = active
    for name, value in changes.items():
        setattr(agency, name, value)
    for lang in ("th", "en"):
        if f"name_{lang}" in changes:
            agency.names = {**agency.names, lang: changes[f"name_{lang}"]}
    session.flush()
    audit.info(
        "agency %s edited by %s: %s",
        agency.slug,
        editor.id,
        sorted({*changes, *(["categories"] if codes is not None else [])}),
        extra={"action": "agency.edited", "actor_id": editor.id, "agency_id": agency.id},
    )
    if not reroute:
        return []
    return routing.reroute_unclaimed(session, spatial=spatial, actor=editor)


def get_category(session: Session, code: str) -> Category:
    category = session.scalar(
        select(Category).where(Category.code == code).options(selectinload(Category.attributes))
    )
    if category is None:
        raise NotFound(i18n.text("error.category.not_found", code=repr(code)))
    return category


def update_category(
    session: Session, *, category: Category, editor: User, changes: dict[str, Any]
) -> Category:
    """Admins rename, retarget or deactivate a category. A deactivated category accepts no new
    reports and leaves the lists; its issues keep it (and their deadlines)."""
    ack = changes.get("acknowledge_target_hours", category.acknowledge_target_hours)
    if changes.get("resolve_target_hours", category.resolve_target_hours) < ack:
        raise ValidationFailed(
            i18n.text("error.category.targets"),
            errors=[
                FieldProblem(
                    location="body.resolve_target_hours",
                    message="must be at least acknowledge_target_hours",
                    code="resolve_before_acknowledge",
                )
            ],
        )
    if changes.get("is_active") is False and category.code == general_category_code(session):
        raise Conflict(i18n.text("error.category.general_stays"))
    for name, value in changes.items():
        setattr(category, name, value)
    for lang in ("th", "en"):
        if f"name_{lang}" in changes:
            category.names = {**category.names, lang: changes[f"name_{lang}"]}
    session.flush()
    audit.info(
        "category %s edited by %s: %s",
        category.code,
        editor.id,
        sorted(changes),
        extra={"action": "category.edited", "actor_id": editor.id, "category": category.code},
    )
    return category


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
