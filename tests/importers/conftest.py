"""The real samples in ../shared/data, and the city they are imported into."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.ops import unary_union
from sqlalchemy.orm import Session

from app.models import District

DATA = Path("/work/shared/data")
HERE = Path(__file__).parent


def load_districts(session: Session, path: Path, id_property: str) -> int:
    """A district per id (NYC draws a district of several islands as several features)."""
    parts: dict[str, list[Polygon]] = defaultdict(list)
    for feature in json.loads(path.read_text())["features"]:
        geometry = shape(feature["geometry"])
        polygons = list(geometry.geoms) if isinstance(geometry, MultiPolygon) else [geometry]
        parts[str(feature["properties"][id_property])].extend(polygons)
    for code, polygons in parts.items():
        union = unary_union(polygons)
        area = union if isinstance(union, MultiPolygon) else MultiPolygon([union])
        session.add(District(code=code, name_en=code, name_th=code, area=area))
    session.commit()
    return len(parts)


@pytest.fixture
def nyc_districts(db: Session) -> int:
    return load_districts(db, DATA / "nyc-community-districts.geojson", "communityDistrict")
