"""Maps for dashboards: issue counts per H3 hexagon, and Mapbox Vector Tiles.

From city to country zoom, counts come from `issue_cell_count` (kept exact by a trigger, see
`app.models.map_cell`), never from the issues' points, whenever the filter is one the counts are
kept by: status, category, handling agency and a period of whole UTC days. Any other filter (a
district, a flag, words, a period cut within a day) is answered exactly from the issues instead.
Only at street zoom does a tile carry the issues themselves.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import h3
import shapely
from sqlalchemy import (
    ColumnElement,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Agency, Category, Issue, IssueCellCount
from app.models.map_cell import FINEST_RESOLUTION, NO_AGENCY, RESOLUTIONS, cell_at, parent_masks
from app.models.types import LonLat
from app.schemas.problem import FieldProblem
from app.services.issues import IssueFilter, category_ids, filter_conditions, publicly_visible
from app.spatial import BBox, SpatialBackend
from app.spatial.tiles import BUFFER, Tile, encode

# Hexagons drawn about 10 to 60 pixels wide: resolution 5 up to zoom 8, 7 up to 12, then 9.
ZOOM_RESOLUTIONS = ((8, 5), (12, 7))
# From this zoom on, a tile carries each issue (a few streets); below it, hexagons.
POINT_ZOOM = 15
# The most hexagons one answer may hold (a large screen at any zoom holds far fewer).
MAX_CELLS = 5000
POINT_LAYER, HEXAGON_LAYER = "issues", "hexagons"
_BATCH = 10_000


def resolution_for_zoom(zoom: int) -> int:
    """The H3 resolution whose hexagons a map at this zoom draws."""
    return next((r for top, r in ZOOM_RESOLUTIONS if zoom <= top), FINEST_RESOLUTION)


def cells_in(bbox: BBox, resolution: int, *, name: str = "bbox") -> list[int]:
    """The cells whose centre lies in the rectangle; too many for one answer is refused."""
    mid = math.radians((bbox.north + bbox.south) / 2)
    width_km = (bbox.east - bbox.west) * 111.32 * max(math.cos(mid), 0.01)
    height_km = (bbox.north - bbox.south) * 110.57
    estimate = width_km * height_km / h3.average_hexagon_area(resolution, "km^2")
    if estimate > MAX_CELLS * 2:
        raise _too_many(name, resolution)
    polygon = h3.LatLngPoly(
        [
            (bbox.south, bbox.west),
            (bbox.south, bbox.east),
            (bbox.north, bbox.east),
            (bbox.north, bbox.west),
        ]
    )
    cells = [h3.str_to_int(c) for c in h3.polygon_to_cells(polygon, resolution)]
    if len(cells) > MAX_CELLS:
        raise _too_many(name, resolution)
    return cells


def _too_many(name: str, resolution: int) -> ValidationFailed:
    message = (
        f"covers more than {MAX_CELLS} hexagons at resolution {resolution}; "
        "zoom in or ask for a smaller area"
    )
    return ValidationFailed(
        f"{name}: {message}",
        errors=[FieldProblem(location=f"query.{name}", message=message, code="too_large")],
    )


def _whole_day(value: dt.datetime | None) -> bool:
    return value is None or value == value.replace(hour=0, minute=0, second=0, microsecond=0)


def _kept_by_counts(f: IssueFilter) -> bool:
    rest = replace(
        f,
        bbox=None,
        sort=None,
        statuses=(),
        category_codes=(),
        agency_id=None,
        created_after=None,
        created_before=None,
    )
    return rest == IssueFilter() and _whole_day(f.created_after) and _whole_day(f.created_before)


def count_cells(
    session: Session, *, spatial: SpatialBackend, issue_filter: IssueFilter, cells: list[int]
) -> dict[int, int]:
    """How many public issues the filter selects in each cell (all of the same resolution);
    cells with none are left out."""
    if not cells:
        return {}
    resolution = h3.get_resolution(h3.int_to_str(cells[0]))
    if resolution in RESOLUTIONS and _kept_by_counts(issue_filter):
        return _from_counts(session, issue_filter, resolution, cells)
    return _from_issues(session, spatial, issue_filter, resolution, cells)


def _from_counts(
    session: Session, f: IssueFilter, resolution: int, cells: list[int]
) -> dict[int, int]:
    c = IssueCellCount
    query = (
        select(c.cell, func.sum(c.n))
        .where(c.resolution == resolution, c.cell.in_(cells))
        .group_by(c.cell)
    )
    if f.statuses:
        query = query.where(c.status.in_([s.value for s in f.statuses]))
    if f.category_codes:
        query = query.where(c.category_id.in_(category_ids(session, f.category_codes)))
    if f.agency_id is not None:
        query = query.where(c.agency_id == f.agency_id)
    if f.created_after is not None:
        query = query.where(c.day >= f.created_after.date())
    if f.created_before is not None:
        query = query.where(c.day < f.created_before.date())
    return {cell: int(n) for cell, n in session.execute(query)}


def _from_issues(
    session: Session, spatial: SpatialBackend, f: IssueFilter, resolution: int, cells: list[int]
) -> dict[int, int]:
    wanted = set(cells)
    around = _bounds(cells)
    if f.bbox is not None:
        # The cells were chosen from the filter's rectangle; their issues may lie outside it.
        f = replace(f, bbox=None)
    clear, fill = parent_masks(resolution)
    found: Counter[int] = Counter()
    query = select(Issue.h3_cell).where(
        *filter_conditions(session, spatial, f), spatial.within_bbox(around)
    )
    for cell in session.scalars(query):
        if cell is None:
            continue
        parent = (cell & clear) | fill
        if parent in wanted:
            found[parent] += 1
    return dict(found)


def _bounds(cells: Iterable[int]) -> BBox:
    lats, lons = zip(
        *(p for c in cells for p in h3.cell_to_boundary(h3.int_to_str(c))), strict=True
    )
    return BBox(min(lons), min(lats), max(lons), max(lats))


def tile(
    session: Session, *, spatial: SpatialBackend, issue_filter: IssueFilter, tile: Tile
) -> bytes:
    """The map tile: each issue from street zoom on, hexagons with counts below it."""
    if tile.z >= POINT_ZOOM:
        f = replace(issue_filter, bbox=tile.bbox(BUFFER))
        properties: list[ColumnElement[Any]] = [
            Issue.public_id.label("id"),
            Category.code.label("category"),
            cast(Issue.status, String).label("status"),
            Agency.slug.label("agency"),
        ]
        rows = (
            select(*properties)
            .join(Category, Category.id == Issue.category_id)
            .outerjoin(Agency, Agency.id == Issue.agency_id)
            .where(*filter_conditions(session, spatial, f))
        )
        return spatial.point_tile(session, tile=tile, layer=POINT_LAYER, rows=rows)
    resolution = resolution_for_zoom(tile.z)
    cells = cells_in(tile.bbox(), resolution, name="z")
    counts = count_cells(session, spatial=spatial, issue_filter=issue_filter, cells=cells)
    features = []
    for cell, n in sorted(counts.items()):
        ring = [tile.pixel(lon, lat) for lat, lon in h3.cell_to_boundary(h3.int_to_str(cell))]
        hexagon = shapely.Polygon([(round(x), round(y)) for x, y in ring])
        features.append((hexagon, {"cell": h3.int_to_str(cell), "count": n}))
    return encode(HEXAGON_LAYER, features)


def rebuild_cell_counts(session: Session) -> int:
    """After a bulk load that bypassed SQLAlchemy (COPY): place every issue without a cell, then
    recount `issue_cell_count` from the issues; returns the number of count rows."""
    connection = session.connection()
    lon, lat = (
        (func.ST_X(Issue.location), func.ST_Y(Issue.location))
        if connection.dialect.name == "postgresql"
        else (func.civicloop_lon(Issue.location), func.civicloop_lat(Issue.location))
    )
    while batch := connection.execute(
        select(Issue.id, lon, lat).where(Issue.h3_cell.is_(None)).limit(_BATCH)
    ).all():
        connection.execute(
            update(Issue)
            .where(Issue.id == bindparam("issue_id"))
            # Placing an issue is not a change of it: updated_at (and its version) stay.
            .values(h3_cell=bindparam("cell"), updated_at=Issue.updated_at),
            [{"issue_id": i, "cell": cell_at(LonLat(x, y))} for i, x, y in batch],
        )
    c = IssueCellCount
    connection.execute(delete(c))
    day = (
        func.date(func.timezone("UTC", Issue.created_at))
        if connection.dialect.name == "postgresql"
        else func.substr(Issue.created_at, 1, 10)
    )
    for resolution in RESOLUTIONS:
        clear, fill = parent_masks(resolution)
        cell = Issue.h3_cell.op("&")(clear).op("|")(fill)
        agency = func.coalesce(Issue.agency_id, NO_AGENCY)
        status = cast(Issue.status, String)
        counted = (
            select(literal(resolution), cell, day, Issue.category_id, status, agency, func.count())
            .where(Issue.h3_cell.is_not(None), publicly_visible())
            .group_by(cell, day, Issue.category_id, status, agency)
        )
        connection.execute(
            insert(c).from_select(
                ["resolution", "cell", "day", "category_id", "status", "agency_id", "n"], counted
            )
        )
    return int(connection.scalar(select(func.count()).select_from(c)) or 0)
