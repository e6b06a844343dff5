"""Open data exports: one documented schema in CSV, GeoJSON and NDJSON, the issue list's
filters, streamed in chunks, and never anything personal or internal."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Agency, Role
from app.models.base import utcnow
from app.services import opendata
from app.services.issues import IssueFilter
from tests.factories import IN_WEST, bearer, if_match, make_api_key, make_user
from tests.known import Known

EXPORTS = "/api/v1/exports"
# I1 of the `known` fixture, exactly as every database must write it.
I1_FIELDS = {
    "status": "closed",
    "status_detail": "resolved",
    "resolution": "fixed",
    "priority": "normal",
    "service_code": "pothole",
    "service_name_th": None,
    "title": "Broken street light",
    "description": None,
    "address": None,
    "agency": "west",
    "district": "west-side",
    "district_name": "West-Side",
    "latitude": 13.72,
    "longitude": 100.52,
    "requested_datetime": "2026-03-02T01:30:00Z",
    "updated_datetime": "2026-03-03T07:30:00Z",
    "acknowledged_datetime": "2026-03-02T03:30:00Z",
    "resolved_datetime": "2026-03-03T07:30:00Z",
    "closed_datetime": None,
    "acknowledge_due_datetime": "2026-03-03T01:30:00Z",
    "expected_datetime": "2026-03-09T01:30:00Z",
    "timeframe": "met",
    "reopen_count": 0,
    "licence": "CC-BY-4.0",
}


async def export(client: httpx.AsyncClient, fmt: str, **params: str) -> httpx.Response:
    response = await client.get(f"{EXPORTS}/issues.{fmt}", params=params)
    assert response.status_code == 200, response.text
    return response


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.text)))


def _matches(row: Mapping[str, object], *, as_text: bool) -> None:
    for name, value in I1_FIELDS.items():
        if name == "service_name_th":
            continue
        expected = ("" if value is None else str(value)) if as_text else value
        assert row[name] == expected, name


async def test_the_dictionary_documents_every_field_and_the_licence(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get(f"{EXPORTS}/dictionary")).json()
    assert body["schema_version"] == "1.0"
    assert body["licence"] == {
        "id": "CC-BY-4.0",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    }
    names = [f["name"] for f in body["fields"]]
    assert names == opendata.NAMES
    assert all(f["description"] and f["type"] for f in body["fields"])
    assert {"id", "licence", "expected_datetime", "timeframe"} <= set(names)


async def test_csv_has_the_dictionarys_columns_and_exact_values(
    client: httpx.AsyncClient, known: Known
) -> None:
    response = await export(client, "csv")
    assert response.text.splitlines()[0] == ",".join(opendata.NAMES)
    assert 'rel="license"' in response.headers["link"]
    assert response.headers["content-disposition"] == (
        'attachment; filename="civicloop-issues.csv"'
    )
    rows = csv_rows(response)
    assert [r["id"] for r in rows] == known.ids  # oldest first
    _matches(rows[0], as_text=True)
    assert (rows[3]["district"], rows[3]["agency"]) == ("", "")
    assert rows[2]["timeframe"] == "late"


async def test_ndjson_and_geojson_carry_the_same_records(
    client: httpx.AsyncClient, known: Known
) -> None:
    ndjson = await export(client, "ndjson")
    assert ndjson.headers["content-type"] == "application/x-ndjson"
    records = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [list(r) for r in records] == [opendata.NAMES] * 4
    _matches(records[0], as_text=False)

    geojson = await export(client, "geojson")
    assert geojson.headers["content-type"] == "application/geo+json"
    collection = geojson.json()
    assert collection["type"] == "FeatureCollection"
    assert collection["licence"]["id"] == "CC-BY-4.0"
    features = collection["features"]
    assert [f["id"] for f in features] == known.ids
    assert features[0]["geometry"] == {"type": "Point", "coordinates": list(IN_WEST)}
    assert features[0]["properties"] == records[0]


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "geojson"])
async def test_exports_take_the_issue_list_filters(
    client: httpx.AsyncClient, known: Known, fmt: str
) -> None:
    def ids(response: httpx.Response) -> list[str]:
        if fmt == "csv":
            return [r["id"] for r in csv_rows(response)]
        if fmt == "ndjson":
            return [json.loads(line)["id"] for line in response.text.splitlines()]
        return [f["id"] for f in response.json()["features"]]

    assert ids(await export(client, fmt, category="streetlight")) == known.ids[2:]
    assert ids(await export(client, fmt, status="resolved")) == known.ids[:2]
    assert ids(await export(client, fmt, bbox="100.55,13.70,100.60,13.75")) == [known.ids[2]]
    assert ids(await export(client, fmt, created_after="2026-03-03T00:00:00Z")) == known.ids[2:]
    assert ids(await export(client, fmt, q="nothing like this")) == []


@pytest.mark.parametrize(
    "params", [{"category": "volcano"}, {"bbox": "1,2"}, {"created_after": "soon"}]
)
async def test_bad_filters_are_refused_before_anything_is_sent(
    client: httpx.AsyncClient, known: Known, params: dict[str, str]
) -> None:
    response = await client.get(f"{EXPORTS}/issues.csv", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_unknown_format_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{EXPORTS}/issues.xlsx")
    assert response.status_code == 422


@pytest.mark.parametrize("fmt", list(opendata.ExportFormat))
async def test_exports_are_produced_in_chunks_and_lose_nothing(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    known: Known,
    monkeypatch: pytest.MonkeyPatch,
    fmt: opendata.ExportFormat,
) -> None:
    # The HTTP test client gathers the body; the chunks are checked at the source.
    whole = (await export(client, fmt.value)).content
    monkeypatch.setattr(opendata, "CHUNK_BYTES", 200)
    monkeypatch.setattr(opendata, "FETCH_ROWS", 1)
    query = opendata.export_query(
        db,
        spatial=database.spatial,
        issue_filter=IssueFilter(),
        now=utcnow(),
        licence="CC-BY-4.0",
        fmt=fmt,
    )
    chunks = list(
        opendata.stream(
            database,
            query,
            fmt,
            licence="CC-BY-4.0",
            licence_url="https://creativecommons.org/licenses/by/4.0/",
        )
    )
    assert len(chunks) > 3
    assert all(len(chunk) < 200 + 2000 for chunk in chunks)
    assert b"".join(chunks) == whole


async def test_nothing_personal_or_internal_is_exported(
    client: httpx.AsyncClient, db: Session, settings: Settings, known: Known
) -> None:
    integration = make_user(db, email="reporter.private@example.org")
    key = make_api_key(db, integration)
    created = await client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "pothole",
            "lat": "13.72",
            "long": "100.52",
            "email": "contact.private@example.org",
            "phone": "0899999999",
            "first_name": "Privatename",
            "device_id": "device-private-123",
            "description": "Hole by the market",
        },
    )
    assert created.status_code == 201, created.text
    request_id = created.json()[0]["service_request_id"]
    east = db.scalar(select(Agency).where(Agency.slug == "east"))
    assert east is not None
    internal = await client.post(
        f"/api/v1/issues/{known.ids[2]}/transitions",
        headers=await if_match(
            client, known.ids[2], bearer(settings, make_user(db, Role.agent, agency=east))
        ),
        json={"action": "start", "note": "Internal: contractor owes us", "is_public": False},
    )
    assert internal.status_code == 200, internal.text
    for fmt in ("csv", "ndjson", "geojson"):
        text = (await export(client, fmt)).text
        assert request_id in text
        for secret in (
            "reporter.private@example.org",
            "contact.private@example.org",
            "0899999999",
            "Privatename",
            "device-private-123",
            "contractor owes",
        ):
            assert secret not in text, (fmt, secret)
