"""Area watches: "tell me of new reports here" (FixMyStreet's local alerts).

A watch keeps its bounding box in plain indexed columns, so the same SQL finds the candidates on
both databases; the exact test (polygon covers, great-circle distance) is Shapely's and ours,
the same rules the spatial backends follow.
"""

from __future__ import annotations

import shapely
from shapely.geometry import MultiPolygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound, ValidationFailed
from app.models import AreaWatch, Category, User
from app.models.types import LonLat
from app.schemas.problem import FieldProblem
from app.spatial import enclosing_bbox, great_circle_m


def watches_covering(session: Session, *, point: LonLat, category_id: int) -> list[AreaWatch]:
    """Watches whose area holds the point and whose categories include this one."""
    candidates = session.scalars(
        select(AreaWatch)
        .where(
            AreaWatch.min_lon <= point.lon,
            AreaWatch.max_lon >= point.lon,
            AreaWatch.min_lat <= point.lat,
            AreaWatch.max_lat >= point.lat,
        )
        .order_by(AreaWatch.id)
    )
    here = shapely.Point(point.lon, point.lat)
    return [
        watch
        for watch in candidates
        if (not watch.category_ids or category_id in watch.category_ids)
        and (
            watch.area.covers(here)
            if watch.area is not None
            else watch.center is not None
            and watch.radius_m is not None
            and great_circle_m(watch.center, point) <= watch.radius_m
        )
    ]


def create_watch(
    session: Session,
    *,
    user: User,
    area: MultiPolygon | None,
    center: LonLat | None,
    radius_m: float | None,
    category_codes: list[str],
) -> AreaWatch:
    """Watch a polygon, or a circle around a point, for new reports in these categories."""
    ids: dict[str, int] = dict(
        session.execute(
            select(Category.code, Category.id).where(Category.code.in_(category_codes))
        ).all()
    )
    unknown = [code for code in category_codes if code not in ids]
    if unknown:
        raise ValidationFailed(
            f"Unknown categories {', '.join(unknown)}: GET /api/v1/categories lists the codes.",
            errors=[
                FieldProblem(
                    location="body.categories", message="unknown category", code="unknown_category"
                )
            ],
        )
    if area is not None:
        west, south, east, north = area.bounds
    else:
        assert center is not None
        assert radius_m is not None
        box = enclosing_bbox(center, radius_m)
        west, south, east, north = box.west, box.south, box.east, box.north
    watch = AreaWatch(
        user_id=user.id,
        area=area,
        center=center,
        radius_m=radius_m,
        category_ids=sorted(set(ids.values())),
        min_lon=west,
        max_lon=east,
        min_lat=south,
        max_lat=north,
    )
    session.add(watch)
    session.flush()
    return watch


def list_watches(session: Session, *, user: User) -> list[AreaWatch]:
    return list(
        session.scalars(
            select(AreaWatch).where(AreaWatch.user_id == user.id).order_by(AreaWatch.id)
        )
    )


def delete_watch(session: Session, *, user: User, watch_id: int) -> None:
    """Only the watcher removes their watch; someone else's is "not found", not "forbidden"."""
    watch = session.get(AreaWatch, watch_id)
    if watch is None or watch.user_id != user.id:
        raise NotFound(f"You have no area watch {watch_id}.")
    session.delete(watch)
    session.flush()
