"""GET /issues filters, alone and combined, against answers worked out by hand from the
catalogue; newest first unless said otherwise."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.db import Database
from tests.factories import make_category, make_issue, make_user
from tests.geodesy import haversine_m
from tests.queries.catalogue import CENTRE, NEWEST_FIRST, SPECS, Catalogue

LON, LAT = CENTRE
NEAR = {"lat": LAT, "lon": LON}

CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "no filter": ({}, NEWEST_FIRST),
    # Status
    "one status": ({"status": "open"}, ["rubbish", "twin", "rama4", "outside"]),
    "several statuses": (
        {"status": "open,resolved"},
        ["rubbish", "lamp", "twin", "rama4", "outside"],
    ),
    "statuses with spaces and a repeat": (
        {"status": "in_progress, closed,closed"},
        ["school", "soi5"],
    ),
    # Category
    "one category": ({"category": "streetlight"}, ["lamp", "soi5"]),
    "several categories": (
        {"category": "pothole,garbage"},
        ["school", "rubbish", "silom", "twin", "rama4", "outside"],
    ),
    # Agency: the one handling it now.
    "handled by city": ({"agency": "@city"}, ["lamp", "silom"]),
    "handled by metro": ({"agency": "@metro"}, ["school", "soi5"]),
    "an agency that does not exist": ({"agency": 999_999}, []),
    # Creation time: after is inclusive, before is exclusive.
    "created at or after": (
        {"created_after": "2026-03-02T08:00:00Z"},
        ["school", "rubbish", "lamp", "soi5", "silom"],
    ),
    "created before": ({"created_before": "2026-03-02T08:00:00Z"}, ["twin", "rama4", "outside"]),
    "created in a range given in Bangkok time": (
        {
            "created_after": "2026-03-02T15:00:00+07:00",
            "created_before": "2026-03-04T15:00:00+07:00",
        },
        ["soi5", "silom"],
    ),
    "a time without an offset is UTC": (
        {"created_after": "2026-03-01T08:00:00"},
        ["school", "rubbish", "lamp", "soi5", "silom", "twin", "rama4"],
    ),
    "updated at or after": ({"updated_after": "2026-03-12T00:00:00Z"}, ["school", "lamp", "soi5"]),
    "updated before": ({"updated_before": "2026-03-05T08:00:00Z"}, ["twin", "outside"]),
    "updated in a range": (
        {"updated_after": "2026-03-05T08:00:00Z", "updated_before": "2026-03-11T00:00:01Z"},
        ["rubbish", "silom", "rama4"],
    ),
    # Text in the title or the description.
    "an English word": ({"q": "pothole"}, ["school", "twin", "rama4"]),
    "in capitals": ({"q": "POTHOLE"}, ["school", "twin", "rama4"]),
    "mixed case against mixed case": ({"q": "street light"}, ["soi5"]),
    "words across a space": ({"q": "rama iv"}, ["twin", "rama4"]),
    "only in a description": ({"q": "at night"}, ["lamp"]),
    "Thai in a description": ({"q": "ไฟดับ"}, ["soi5"]),
    "Thai in a title and a description": ({"q": "ไฟ"}, ["lamp", "soi5"]),
    "Thai in a title": ({"q": "ถนนสีลม"}, ["silom"]),
    "Thai, nothing matches": ({"q": "น้ำท่วม"}, []),
    "a literal percent sign": ({"q": "100%"}, ["lamp"]),
    "a percent sign alone": ({"q": "%"}, ["lamp"]),
    "a literal underscore": ({"q": "_"}, ["school"]),
    "a backslash": ({"q": "\\"}, []),
    # Space
    "a bounding box": (
        {"bbox": f"{LON - 0.001},{LAT - 0.008},{LON + 0.003},{LAT + 0.002}"},
        ["soi5", "silom", "twin", "rama4"],
    ),
    "a radius of one kilometre": ({**NEAR, "radius": 1000}, ["soi5", "silom", "twin", "rama4"]),
    "a radius just short of the lamp": (
        {**NEAR, "radius": 1499.9},
        ["soi5", "silom", "twin", "rama4"],
    ),
    "a radius just past the lamp": (
        {**NEAR, "radius": 1500.1},
        ["lamp", "soi5", "silom", "twin", "rama4"],
    ),
    # Combinations
    "open potholes": ({"status": "open", "category": "pothole"}, ["twin", "rama4"]),
    "potholes in a box": (
        {"q": "pothole", "bbox": f"{LON - 0.001},{LAT - 0.008},{LON + 0.003},{LAT + 0.002}"},
        ["twin", "rama4"],
    ),
    "city's street lights": ({"category": "streetlight", "agency": "@city"}, ["lamp"]),
    "recent work nearby": (
        {
            **NEAR,
            "radius": 2000,
            "status": "acknowledged,in_progress,resolved",
            "created_after": "2026-03-03T00:00:00Z",
        },
        ["lamp", "soi5"],
    ),
    "everything at once, nothing left": (
        {**NEAR, "radius": 2000, "status": "open", "category": "streetlight", "q": "light"},
        [],
    ),
}


def _params(catalogue: Catalogue, params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: catalogue.agencies[v[1:]].id if isinstance(v, str) and v.startswith("@") else v
        for k, v in params.items()
    }


async def test_each_filter_alone_and_combined(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    """All cases in one test (the catalogue is built once); a failure names the cases."""
    found: dict[str, list[str] | str] = {}
    for case, (params, _) in CASES.items():
        response = await client.get("/api/v1/issues", params=_params(catalogue, params))
        body = response.json()
        if response.status_code != 200 or body["next_cursor"] is not None:
            found[case] = f"{response.status_code}: {response.text}"
        else:
            found[case] = catalogue.named([item["id"] for item in body["items"]])
    assert found == {case: expected for case, (_, expected) in CASES.items()}


async def test_nearest_first_with_exact_distances_and_ties_by_report_order(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    response = await client.get(
        "/api/v1/issues", params={**NEAR, "radius": 50_000, "sort": "nearest"}
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    # rama4 and twin share a spot: the one reported first comes first. "outside" is 100 km off.
    assert catalogue.named([i["id"] for i in items]) == [
        "rama4",
        "twin",
        "silom",
        "soi5",
        "lamp",
        "rubbish",
        "school",
    ]
    for item in items:
        spec = SPECS[catalogue.names[item["id"]]]
        assert item["distance_m"] == pytest.approx(haversine_m(CENTRE, spec.at), abs=1e-6)
    assert [round(i["distance_m"]) for i in items] == [100, 100, 300, 800, 1500, 5000, 20_000]


async def test_distance_is_given_only_when_sorted_by_distance(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    response = await client.get("/api/v1/issues", params={**NEAR, "radius": 1000})
    assert {item["distance_m"] for item in response.json()["items"]} == {None}


async def test_items_carry_what_was_reported(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    response = await client.get("/api/v1/issues", params={"q": "ถนนสีลม"})
    [item] = response.json()["items"]
    spec = SPECS["silom"]
    assert (item["title"], item["description"]) == (spec.title, spec.description)
    assert (item["longitude"], item["latitude"]) == spec.at
    assert item["category"]["code"] == "pothole"
    assert (item["status"], item["agency"]["slug"]) == ("acknowledged", "city")
    assert item["created_at"] == "2026-03-02T08:00:00Z"
    assert item["updated_at"] == "2026-03-11T00:00:00Z"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("café amazon", ["cafe"]),
        ("CAFÉ", ["cafe"]),
        ("straße", ["strasse"]),
        ("STRASSE", []),  # case folds, spelling does not
        ("cafe", []),  # nor do accents
        ("ΑΘΉΝΑ", ["greek"]),
    ],
)
async def test_text_search_ignores_case_beyond_ascii_on_both_databases(
    client: httpx.AsyncClient, db: Session, database: Database, q: str, expected: list[str]
) -> None:
    titles = {
        "cafe": "CAFÉ AMAZON sign blocks the footpath",
        "strasse": "Sign for the Straße of the German school is down",
        "greek": "Tour bus from Αθήνα parked on the footpath",
    }
    reporter, category = make_user(db), make_category(db)
    ids = {}
    for name, title in titles.items():
        issue = make_issue(db, database.spatial, reporter=reporter, category=category, title=title)
        ids[issue.public_id] = name
    response = await client.get("/api/v1/issues", params={"q": q})
    assert [ids[i["id"]] for i in response.json()["items"]] == expected


async def test_radius_search_over_http_reaches_across_the_antimeridian_and_the_pole(
    client: httpx.AsyncClient, db: Session, database: Database
) -> None:
    reporter, category = make_user(db), make_category(db)
    points = {
        "east of the line": (179.9995, 0.0),
        "west of the line": (-179.9995, 0.0),
        "at the pole": (0.0, 90.0),
        "across the pole": (180.0, 89.996),
    }
    names = {
        make_issue(db, database.spatial, reporter=reporter, category=category, at=at).public_id: n
        for n, at in points.items()
    }
    for centre, expected in (
        ((-179.9999, 0.0), ["west of the line", "east of the line"]),
        ((0.0, 89.997), ["at the pole", "across the pole"]),
    ):
        response = await client.get(
            "/api/v1/issues",
            params={"lon": centre[0], "lat": centre[1], "radius": 1000, "sort": "nearest"},
        )
        items = response.json()["items"]
        assert [names[i["id"]] for i in items] == expected
        for item in items:
            at = points[names[item["id"]]]
            assert item["distance_m"] == pytest.approx(haversine_m(centre, at), abs=1e-6)
