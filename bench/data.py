"""Where, what and when a real city reports: the model the seeded issues are drawn from.

Positions cluster around real Bangkok reports (the Traffy Fondue sample in /work/shared/data, read
at run time and never copied into the repository); without it, around random points inside the
demo districts. Categories follow the sample's problem types and the hour of day its timestamps.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.ops import unary_union

DEFAULT_TRAFFY_CSV = Path("/work/shared/data/traffy-fondue-bangkok-2023-05.csv")
# Reports further than this outside the districts' bounding box are other provinces: left out.
EXTENT_MARGIN_DEG = 0.05
FALLBACK_CENTRES = 1000

# Traffy's problem types (Thai) to our category codes; types with no counterpart stay unmapped.
TRAFFY_TYPES = {
    "ถนน": "pothole",
    "สะพาน": "pothole",
    "ทางเท้า": "footpath",
    "ความสะอาด": "garbage",
    "แสงสว่าง": "streetlight",
    "ท่อระบายน้ำ": "drain-blocked",
    "กีดขวาง": "obstruction",
    "ป้าย": "obstruction",
    "น้ำท่วม": "flooding",
    "เสียงรบกวน": "noise",
    "จราจร": "traffic-signal",
    "ป้ายจราจร": "traffic-signal",
    "ต้นไม้": "tree",
    "คลอง": "canal",
    "สัตว์จรจัด": "stray-animals",
    "สายไฟ": "power-lines",
}
# Every category gets at least this share, so ones the sample never names still occur.
CATEGORY_FLOOR_SHARE = 0.01
# Reports per UTC hour when no sample is available: Bangkok's day (UTC+7), quiet at night.
FALLBACK_HOURS = [6, 6, 5, 5, 6, 6, 5, 4, 4, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5]


@dataclass(frozen=True)
class Centre:
    """A real report's position, with its text reused by the issues seeded around it."""

    lon: float
    lat: float
    category_code: str | None
    title: str | None
    description: str
    address: str | None


@dataclass(frozen=True)
class CityModel:
    centres: list[Centre]
    # Relative number of reports per UTC hour of day (24 values).
    hour_weights: list[float]
    category_weights: dict[str, float]
    source: str


def district_features() -> list[dict[str, Any]]:
    raw = (files("app.demo") / "bangkok-districts.geojson").read_text(encoding="utf-8")
    features: list[dict[str, Any]] = json.loads(raw)["features"]
    return features


def district_geometries() -> list[Any]:
    return [shape(f["geometry"]) for f in district_features()]


def _first_line(text: str, limit: int) -> str | None:
    for line in text.splitlines():
        line = line.strip()
        if len(line) >= 3:
            return line[:limit].strip()
    return None


def _hour_weights(timestamps: list[dt.datetime]) -> list[float]:
    """Reports per UTC hour of day, divided by how often the sample's window covers that hour."""
    if not timestamps:
        return [float(w) for w in FALLBACK_HOURS]
    counts = [0] * 24
    for stamp in timestamps:
        counts[stamp.hour] += 1
    coverage = [0] * 24
    hour = min(timestamps).replace(minute=0, second=0, microsecond=0)
    last = max(timestamps)
    while hour <= last:
        coverage[hour.hour] += 1
        hour += dt.timedelta(hours=1)
    return [(counts[h] + 1) / max(coverage[h], 1) for h in range(24)]


def _category_weights(codes: list[str | None], known: set[str]) -> dict[str, float]:
    counts = dict.fromkeys(sorted(known), 0.0)
    for code in codes:
        if code in counts:
            counts[code] += 1
    floor = max(sum(counts.values()), 1.0) * CATEGORY_FLOOR_SHARE
    return {code: max(count, floor) for code, count in counts.items()}


def _read_traffy(
    path: Path, known: set[str], extent: tuple[float, float, float, float]
) -> tuple[list[Centre], list[dt.datetime]]:
    west, south, east, north = extent
    centres: list[Centre] = []
    timestamps: list[dt.datetime] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                lon_text, lat_text = row["coords"].split(",")
                lon, lat = float(lon_text), float(lat_text)
            except ValueError:
                continue
            if not (west <= lon <= east and south <= lat <= north):
                continue
            code = None
            for kind in row["type"].strip("{}").split(","):
                mapped = TRAFFY_TYPES.get(kind.strip())
                if mapped in known:
                    code = mapped
                    break
            comment = row["comment"].strip()[:5000]
            address = row["address"].strip()[:500] or None
            centres.append(Centre(lon, lat, code, _first_line(comment, 100), comment, address))
            stamp = row["timestamp"].strip()
            if len(stamp) >= 13:
                timestamps.append(dt.datetime.strptime(stamp[:13], "%Y-%m-%d %H"))
    return centres, timestamps


def _random_centres(rng: random.Random, geometries: list[Any], count: int) -> list[Centre]:
    city = unary_union(geometries)
    west, south, east, north = city.bounds
    centres: list[Centre] = []
    for _ in range(count * 100):  # bounded: Bangkok fills about half its bounding box
        if len(centres) == count:
            break
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if shapely.contains_xy(city, lon, lat):
            centres.append(Centre(lon, lat, None, None, "", None))
    return centres


def load_city(rng: random.Random, known_codes: set[str], traffy_csv: Path | None) -> CityModel:
    geometries = district_geometries()
    west, south, east, north = unary_union(geometries).bounds
    extent = (
        west - EXTENT_MARGIN_DEG,
        south - EXTENT_MARGIN_DEG,
        east + EXTENT_MARGIN_DEG,
        north + EXTENT_MARGIN_DEG,
    )
    if traffy_csv is not None and traffy_csv.is_file():
        centres, timestamps = _read_traffy(traffy_csv, known_codes, extent)
        if centres:
            return CityModel(
                centres=centres,
                hour_weights=_hour_weights(timestamps),
                category_weights=_category_weights([c.category_code for c in centres], known_codes),
                source=f"{len(centres)} Traffy Fondue report positions from {traffy_csv}",
            )
    centres = _random_centres(rng, geometries, FALLBACK_CENTRES)
    return CityModel(
        centres=centres,
        hour_weights=[float(w) for w in FALLBACK_HOURS],
        category_weights=_category_weights([], known_codes),
        source=f"{len(centres)} random points inside the demo districts (no Traffy CSV found)",
    )
