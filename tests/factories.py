"""Plain functions that store what a test needs, committed so the app sees it."""

from __future__ import annotations

import base64
import functools
import itertools
from collections.abc import Mapping, Sequence

import httpx
import shapely
from py_vapid import Vapid01
from shapely.geometry import MultiPolygon
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from app.config import Settings
from app.models import (
    Agency,
    AttributeDatatype,
    Base,
    Category,
    CategoryAttribute,
    District,
    Issue,
    Language,
    LonLat,
    Role,
    User,
)
from app.models.base import utcnow
from app.security import hash_password
from app.services import accounts, issues, sessions
from app.spatial import SpatialBackend

_counter = itertools.count(1)
PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)

# A small city on the Bangkok grid: two districts side by side, and the whole city.
WEST_DISTRICT = (100.50, 13.70, 100.55, 13.75)
EAST_DISTRICT = (100.55, 13.70, 100.60, 13.75)
CITY = (100.50, 13.70, 100.60, 13.75)
IN_WEST = (100.52, 13.72)
IN_EAST = (100.58, 13.72)
OUTSIDE = (100.70, 13.90)


def area(bounds: tuple[float, float, float, float]) -> MultiPolygon:
    return MultiPolygon([shapely.box(*bounds)])


def make_category(
    session: Session,
    code: str | None = None,
    *,
    acknowledge_hours: int = 24,
    resolve_hours: int = 120,
    attributes: list[CategoryAttribute] | None = None,
    flags: Sequence[str] = (),
) -> Category:
    n = next(_counter)
    category = Category(
        attributes=attributes or [],
        code=code or f"category-{n}",
        group="roads",
        name_th=f"หมวด {n}",
        name_en=f"Category {n}",
        keywords=[],
        flags=list(flags),
        acknowledge_target_hours=acknowledge_hours,
        resolve_target_hours=resolve_hours,
    )
    session.add(category)
    session.commit()
    return category


def attribute(
    code: str,
    datatype: AttributeDatatype,
    *,
    order: int,
    required: bool = False,
    values: Sequence[tuple[str, str]] = (),
    variable: bool = True,
) -> CategoryAttribute:
    return CategoryAttribute(
        code=code,
        datatype=datatype,
        order=order,
        required=required,
        variable=variable,
        description=f"Question {code}",
        datatype_description="",
        values=[{"key": k, "name": n} for k, n in values],
    )


def make_api_key(session: Session, owner: User) -> str:
    """A new API key of the owner's; returns the secret."""
    _, secret = accounts.create_api_key(session, owner=owner, name="test integration")
    session.commit()
    return secret


def make_agency(
    session: Session,
    *,
    bounds: tuple[float, float, float, float] = WEST_DISTRICT,
    categories: list[Category],
    slug: str | None = None,
) -> Agency:
    n = next(_counter)
    agency = Agency(
        slug=slug or f"agency-{n}",
        name_th=f"หน่วยงาน {n}",
        name_en=f"Agency {n}",
        jurisdiction=area(bounds),
        categories=categories,
    )
    session.add(agency)
    session.commit()
    return agency


def make_district(
    session: Session, code: str, bounds: tuple[float, float, float, float]
) -> District:
    district = District(code=code, name_th=code, name_en=code.title(), area=area(bounds))
    session.add(district)
    session.commit()
    return district


def make_user(
    session: Session,
    role: Role = Role.citizen,
    *,
    agency: Agency | None = None,
    email: str | None = None,
    language: Language = Language.en,
) -> User:
    """A user who reads English unless told otherwise (accounts default to Thai), so tests
    that read messages read them in one language whoever signs in."""
    n = next(_counter)
    user = User(
        email=email or f"user{n}@example.org",
        password_hash=_PASSWORD_HASH,
        display_name=f"User {n}",
        role=role,
        agency_id=agency.id if agency else None,
        language=language,
        # As a confirmed sign-up (or a verified staff address): messages reach it.
        email_verified_at=utcnow(),
    )
    session.add(user)
    session.commit()
    return user


def make_issue(
    session: Session,
    spatial: SpatialBackend,
    *,
    reporter: User,
    category: Category,
    at: tuple[float, float] = IN_WEST,
    title: str = "Broken street light",
    description: str = "",
) -> Issue:
    issue = issues.create_issue(
        session,
        spatial=spatial,
        reporter=reporter,
        category_code=category.code,
        title=title,
        description=description,
        location=LonLat(*at),
        address=None,
    ).issue
    session.commit()
    return issue


def login(settings: Settings, user: User) -> sessions.Tokens:
    """A new login session of the user's (stored through the session the user came from)."""
    session = object_session(user)
    assert session is not None, "the user must belong to a session"
    tokens = sessions.start(session, settings, user=user)
    session.commit()
    return tokens


def bearer(settings: Settings, user: User) -> dict[str, str]:
    """Headers of a user who logged in: each call is a new login session."""
    return {"Authorization": f"Bearer {login(settings, user).access_token}"}


async def if_match(
    client: httpx.AsyncClient,
    issue_id: str,
    headers: Mapping[str, str],
    *,
    api: str = "/api/v1",
) -> dict[str, str]:
    """The headers plus the If-Match every staff change to an issue needs: its ETag as these
    credentials read it now, the way a client gets it. A caller who cannot read the issue has
    no ETag to send (their change is refused for the same reason)."""
    read = await client.get(f"{api}/issues/{issue_id}", headers=dict(headers))
    if read.status_code != 200:
        return dict(headers)
    return {**headers, "If-Match": read.headers["ETag"]}


def count(session: Session, model: type[Base]) -> int:
    """Rows committed now, counted in a short session of its own on the same database.

    The caller's session is left alone: rolling it back would expire the objects it holds, and
    reloading them later would open a read transaction there that goes stale while the app writes.
    """
    with Session(session.get_bind()) as fresh:
        return int(fresh.scalar(select(func.count()).select_from(model)) or 0)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@functools.cache
def vapid_key() -> str:
    """A Web Push (VAPID) signing key, as CIVICLOOP_VAPID_PRIVATE_KEY takes it: one per run, so
    that settings carrying it are equal and share one app."""
    vapid = Vapid01()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    return b64url(raw)
