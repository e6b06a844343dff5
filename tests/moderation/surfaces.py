"""Every public surface an issue or its text could appear on, read as the public reads it."""

from __future__ import annotations

import csv
import io
import json

import httpx

from tests.factories import IN_WEST

STRANGER_DEVICE = {"X-Device-Id": "a-stranger-phone-with-a-long-secret-id-0001"}


async def public_text(client: httpx.AsyncClient, issue_id: str) -> str:
    """All the public says of issues, concatenated: the JSON list (plain and GeoJSON), the
    issue and its timeline, Open311 (list and single, JSON and XML), the exports (NDJSON, CSV,
    GeoJSON) and the pages (map and issue page). A 404 (an issue the public may not see) says
    nothing but the id asked for, so only what answered 200 is kept."""
    near = {"lat": str(IN_WEST[1]), "lon": str(IN_WEST[0]), "radius": "500"}
    reads = [
        await client.get("/api/v1/issues"),
        await client.get("/api/v1/issues", params=near),
        await client.get("/api/v1/issues", headers={"Accept": "application/geo+json"}),
        await client.get(f"/api/v1/issues/{issue_id}"),
        await client.get(f"/api/v1/issues/{issue_id}/timeline"),
        await client.get("/open311/v2/requests.json"),
        await client.get("/open311/v2/requests.xml"),
        await client.get(f"/open311/v2/requests/{issue_id}.json"),
        await client.get("/api/v1/exports/issues.ndjson"),
        await client.get("/api/v1/exports/issues.csv"),
        await client.get("/api/v1/exports/issues.geojson"),
        await client.get("/"),
        await client.get(f"/issues/{issue_id}"),
    ]
    for read in reads:
        assert read.status_code in (200, 404), (read.request.url, read.text)
    return "\n".join(r.text for r in reads if r.status_code == 200)


async def public_ids(client: httpx.AsyncClient) -> dict[str, list[str]]:
    """The ids each public list, export and Open311 answer holds."""
    listed = await client.get("/api/v1/issues")
    geo = await client.get("/api/v1/issues", headers={"Accept": "application/geo+json"})
    open311 = await client.get("/open311/v2/requests.json")
    ndjson = await client.get("/api/v1/exports/issues.ndjson")
    table = await client.get("/api/v1/exports/issues.csv")
    geojson = await client.get("/api/v1/exports/issues.geojson")
    return {
        "list": [i["id"] for i in listed.json()["items"]],
        "geo": [f["id"] for f in geo.json()["features"]],
        "open311": [r["service_request_id"] for r in open311.json()],
        "ndjson": [json.loads(line)["id"] for line in ndjson.text.splitlines()],
        "csv": [row["id"] for row in csv.DictReader(io.StringIO(table.text))],
        "geojson": [f["id"] for f in geojson.json()["features"]],
    }
