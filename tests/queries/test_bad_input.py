"""A list query that cannot be answered gets a 422 problem naming the parameter, never a 500."""

from __future__ import annotations

import httpx

C = {"lat": "13.75", "lon": "100.5"}

BAD: dict[str, tuple[dict[str, str], str]] = {
    "a bbox of three numbers": ({"bbox": "100,13,101"}, "bbox"),
    "a bbox of five numbers": ({"bbox": "100,13,101,14,15"}, "bbox"),
    "a bbox of words": ({"bbox": "west,south,east,north"}, "bbox"),
    "a bbox with west east of east": ({"bbox": "101,13,100,14"}, "bbox"),
    "a bbox with south north of north": ({"bbox": "100,14,101,13"}, "bbox"),
    "a bbox past the antimeridian": ({"bbox": "179,0,181,1"}, "bbox"),
    "a bbox past the pole": ({"bbox": "0,80,1,91"}, "bbox"),
    "a bbox of NaN": ({"bbox": "nan,13,101,14"}, "bbox"),
    "a bbox of infinity": ({"bbox": "100,13,inf,14"}, "bbox"),
    "lat without lon": ({"lat": "13.75"}, "lon"),
    "lon without lat": ({"lon": "100.5"}, "lat"),
    "a radius without a centre": ({"radius": "500"}, "radius"),
    "a radius of zero": ({**C, "radius": "0"}, "radius"),
    "a negative radius": ({**C, "radius": "-5"}, "radius"),
    "a radius past the maximum": ({**C, "radius": "50000.01"}, "radius"),
    "an infinite radius": ({**C, "radius": "inf"}, "radius"),
    "a radius in words": ({**C, "radius": "far"}, "radius"),
    "a latitude past 90": ({"lat": "90.0001", "lon": "100", "radius": "5"}, "lat"),
    "a longitude past -180": ({"lat": "13", "lon": "-180.0001", "radius": "5"}, "lon"),
    "a latitude in words": ({"lat": "north", "lon": "100", "radius": "5"}, "lat"),
    "nearest without a centre": ({"sort": "nearest"}, "sort"),
    "nearest without a radius": ({**C, "sort": "nearest"}, "sort"),
    "an unknown sort": ({"sort": "oldest"}, "sort"),
    "an unknown status": ({"status": "open,fixed"}, "status"),
    "an unknown category": ({"category": "pothole,unicorns"}, "category"),
    "a time in words": ({"created_after": "yesterday"}, "created_after"),
    "a time with an impossible offset": (
        {"updated_before": "2026-01-01T00:00:00+25:00"},
        "updated_before",
    ),
    "an empty creation range": (
        {"created_after": "2026-03-02T00:00:00Z", "created_before": "2026-03-02T00:00:00Z"},
        "created_before",
    ),
    "a reversed update range": (
        {"updated_after": "2026-03-03T00:00:00Z", "updated_before": "2026-03-02T00:00:00Z"},
        "updated_before",
    ),
    "a time past year 9999 in UTC": (
        {"created_after": "9999-12-31T23:00:00-10:00"},
        "created_after",
    ),
    "a time before year 1 in UTC": (
        {"updated_after": "0001-01-01T01:00:00+07:00"},
        "updated_after",
    ),
    "an agency in words": ({"agency": "city"}, "agency"),
    "agency zero": ({"agency": "0"}, "agency"),
    "an agency id past 64 bits": ({"agency": "99999999999999999999"}, "agency"),
    "an agency id just past BIGINT": ({"agency": "9223372036854775808"}, "agency"),
    "empty text": ({"q": ""}, "q"),
    "overlong text": ({"q": "x" * 201}, "q"),
    "text with a NUL": ({"q": "pot\x00hole"}, "q"),
}


async def test_a_bad_list_query_is_a_422_problem_naming_the_parameter(
    client: httpx.AsyncClient,
) -> None:
    found: dict[str, tuple[int, str, list[str], bool]] = {}
    for case, (params, _) in BAD.items():
        response = await client.get("/api/v1/issues", params=params)
        problem = response.json()
        found[case] = (
            response.status_code,
            response.headers["content-type"],
            [e["location"] for e in problem.get("errors") or []],
            bool(problem.get("detail")),
        )
    assert found == {
        case: (422, "application/problem+json", [f"query.{parameter}"], True)
        for case, (_, parameter) in BAD.items()
    }


async def test_the_largest_radius_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/issues", params={**C, "radius": "50000"})
    assert response.status_code == 200
