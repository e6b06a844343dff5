"""Arranging many issues at chosen positions, and asking the spatial backend about them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Category, Issue, LonLat, User
from app.services import issues
from app.spatial import SpatialBackend


def place_issues(
    session: Session,
    spatial: SpatialBackend,
    *,
    reporter: User,
    category: Category,
    points: Iterable[tuple[float, float]],
) -> dict[str, tuple[float, float]]:
    """One issue at each (lon, lat), committed together; public id -> position."""
    placed: dict[str, tuple[float, float]] = {}
    for lon, lat in points:
        issue = issues.create_issue(
            session,
            spatial=spatial,
            reporter=reporter,
            category_code=category.code,
            title=f"Issue at {lon:.7f},{lat:.7f}",
            description="",
            location=LonLat(lon, lat),
            address=None,
        ).issue
        placed[issue.public_id] = (lon, lat)
    session.commit()
    return placed


def ids_within_radius(
    session: Session, spatial: SpatialBackend, center: tuple[float, float], radius_m: float
) -> set[str]:
    query = select(Issue.public_id).where(spatial.within_radius(LonLat(*center), radius_m))
    return set(session.scalars(query))


def distances(
    session: Session, spatial: SpatialBackend, center: tuple[float, float]
) -> dict[str, float]:
    query = select(Issue.public_id, spatial.distance_m(LonLat(*center)))
    return {public_id: float(d) for public_id, d in session.execute(query)}
