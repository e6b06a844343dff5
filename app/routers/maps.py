"""Maps for dashboards: vector tiles and hexagon counts, public reads cached like statistics."""

from __future__ import annotations

from typing import Annotated, Any

import h3
import orjson
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.deps import SessionDep, SpatialDep
from app.errors import NotFound, ValidationFailed, problem_responses
from app.http.route import UnitOfWorkRoute
from app.routers.query import IssueFilterDep
from app.routers.stats import cached_body
from app.schemas.problem import FieldProblem
from app.services import maps
from app.spatial.geojson import MAX_ZOOM
from app.spatial.tiles import Tile

router = APIRouter(tags=["maps"], route_class=UnitOfWorkRoute)

MVT = "application/vnd.mapbox-vector-tile"
GEOJSON = "application/geo+json"
RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (If-None-Match)"},
    **problem_responses(400, 422),
}
ZoomPath = Annotated[int, Path(ge=0, le=MAX_ZOOM, description="Web-map zoom level.")]
TilePath = Annotated[int, Path(ge=0, description="Tile column (x) or row (y), from 0.")]


@router.get(
    "/tiles/{z}/{x}/{y}.mvt",
    responses={
        200: {"content": {MVT: {}}, "description": "A Mapbox Vector Tile"},
        **RESPONSES,
        **problem_responses(404),
    },
    summary="A map tile of issues (Mapbox Vector Tile)",
)
def get_tile(
    z: ZoomPath,
    x: TilePath,
    y: TilePath,
    request: Request,
    session: SessionDep,
    spatial: SpatialDep,
    issue_filter: IssueFilterDep,
) -> Response:
    """The public issues the list filters select, as a vector tile (XYZ, Web Mercator, 4096
    pixels with a 64-pixel buffer). From zoom 15 on, layer `issues`: a point per issue with `id`,
    `category`, `status` and `agency` (the handling agency's slug, when there is one). Below,
    layer `hexagons`: an H3 hexagon per cell whose centre lies in the tile, with `cell` and
    `count` (resolution 5 up to zoom 8, 7 up to 12, 9 above). An empty tile is empty (0 bytes)."""
    # Past the edge of the zoom's grid there is no such tile, as on any tile server.
    if max(x, y) >= 2**z:
        raise NotFound(f"No tile {z}/{x}/{y}: at zoom {z}, x and y run from 0 to {2**z - 1}.")
    return cached_body(
        request,
        lambda: maps.tile(session, spatial=spatial, issue_filter=issue_filter, tile=Tile(z, x, y)),
        MVT,
        "map",
    )


@router.get(
    "/hexagons",
    responses={200: {"content": {GEOJSON: {}}, "description": "JSON or GeoJSON"}, **RESPONSES},
    summary="Issue counts per H3 hexagon",
)
def count_hexagons(
    request: Request,
    session: SessionDep,
    spatial: SpatialDep,
    issue_filter: IssueFilterDep,
    zoom: Annotated[int, Query(ge=0, le=MAX_ZOOM, description="The map's zoom level.")],
) -> Response:
    """How many public issues the list filters select in each H3 hexagon whose centre lies in
    `bbox` (required), at the resolution drawn at `zoom` (5 up to zoom 8, 7 up to 12, 9
    above); hexagons with none are left out. At most 5,000 hexagons: a larger area is refused.
    JSON (`cells`: `cell`, `lat`, `lon`, `count`), or GeoJSON polygons when asked for in
    `Accept`."""
    bbox = issue_filter.bbox
    if bbox is None:
        message = "is required: the area to count in"
        raise ValidationFailed(
            f"bbox: {message}",
            errors=[FieldProblem(location="query.bbox", message=message, code="missing")],
        )
    resolution = maps.resolution_for_zoom(zoom)
    geojson = GEOJSON in request.headers.get("accept", "")

    def compute() -> bytes:
        cells = maps.cells_in(bbox, resolution)
        counts = maps.count_cells(session, spatial=spatial, issue_filter=issue_filter, cells=cells)
        names = {cell: h3.int_to_str(cell) for cell in counts}
        if geojson:
            features = [
                {
                    "type": "Feature",
                    "id": names[cell],
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [_ring(names[cell])],
                    },
                    "properties": {"count": n, "resolution": resolution},
                }
                for cell, n in sorted(counts.items())
            ]
            return orjson.dumps({"type": "FeatureCollection", "features": features})
        answer = []
        for cell, n in sorted(counts.items()):
            lat, lon = h3.cell_to_latlng(names[cell])
            answer.append({"cell": names[cell], "lat": lat, "lon": lon, "count": n})
        return orjson.dumps({"resolution": resolution, "cells": answer})

    return cached_body(request, compute, GEOJSON if geojson else "application/json", "map")


def _ring(cell: str) -> list[list[float]]:
    # RFC 7946: lon/lat, closed, counter-clockwise (H3 gives lat/lon, counter-clockwise).
    ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
    return [*ring, ring[0]]
