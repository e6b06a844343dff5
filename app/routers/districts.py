"""Districts as GeoJSON: the boundaries the public map draws."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from shapely.geometry import mapping
from starlette.responses import Response

from app.deps import SessionDep
from app.http.route import UnitOfWorkRoute
from app.services import catalog

router = APIRouter(prefix="/districts", tags=["districts"], route_class=UnitOfWorkRoute)
GEOJSON = "application/geo+json"


@router.get(
    "",
    summary="Districts and their boundaries (GeoJSON)",
    responses={200: {"content": {GEOJSON: {"schema": {"type": "object"}}}}},
)
def list_districts(session: SessionDep) -> Response:
    """An RFC 7946 FeatureCollection: one MultiPolygon per district, with its code and names.
    Public and cacheable for a few minutes (boundaries change rarely)."""
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "id": district.code,
            "geometry": mapping(district.area),
            "properties": {
                "code": district.code,
                "name_th": district.name_th,
                "name_en": district.name_en,
            },
        }
        for district in catalog.list_districts(session)
    ]
    return Response(
        orjson.dumps({"type": "FeatureCollection", "features": features}),
        media_type=GEOJSON,
        headers={"Cache-Control": "public, max-age=300"},
    )
