"""A query parameter an /api/v1 route does not take is refused with a 400 naming it, instead of
being ignored (`page_size` would silently give the default page). Open311 clients send extras
the GeoReport spec lets them send: those routes keep accepting them."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from tests.security.helpers import assert_problem, build_world, report_issue


async def test_every_api_read_refuses_a_parameter_it_does_not_take(
    app: FastAPI, client: httpx.AsyncClient, db: Session, database: Database, settings: Settings
) -> None:
    world = build_world(db, database, settings)
    values = {
        "issue_id": report_issue(db, database, settings, world, "open"),
        "agency_id": str(world.handling.id),
        "fmt": "csv",
    }
    reads = [
        path
        for route in iter_route_contexts(app.routes)
        if (path := route.path_format or "").startswith("/api/v1/")
        and "GET" in (route.methods or ())
    ]
    assert len(reads) >= 40
    for template in reads:
        url = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), template)
        refused = await client.get(url, params={"page_size": "5"}, headers=world.headers["admin"])
        body = assert_problem(refused, 400, "bad-request")
        assert "page_size" in body["detail"], (url, body)
        assert [e["location"] for e in body["errors"]] == ["query.page_size"], url


async def test_the_issue_list_names_the_parameter_and_those_it_takes(
    client: httpx.AsyncClient,
) -> None:
    refused = await client.get("/api/v1/issues", params={"page_size": "5", "limit": "5"})
    body = assert_problem(refused, 400, "bad-request")
    assert body["detail"].startswith("Unknown query parameter: page_size. This endpoint takes: ")
    assert "limit" in body["detail"]
    assert "bbox" in body["detail"]
    assert body["errors"][0]["message"] == "is not a parameter of this endpoint"
    assert (await client.get("/api/v1/issues", params={"limit": "5"})).status_code == 200


async def test_the_refusal_is_worded_in_thai_for_a_thai_reader(client: httpx.AsyncClient) -> None:
    refused = await client.get(
        "/api/v1/categories", params={"lang": "th"}, headers={"Accept-Language": "th"}
    )
    body = assert_problem(refused, 400, "bad-request")
    assert body["detail"] == "ไม่รู้จักพารามิเตอร์ในคิวรี: lang ปลายทางนี้รับเฉพาะ: lat, lon"


async def test_open311_keeps_accepting_extra_parameters(client: httpx.AsyncClient) -> None:
    for path in ("/open311/v2/services.json", "/open311/v2/requests.json"):
        extras = {"api_key": "not-needed-to-read", "page_size": "5"}
        answered = await client.get(path, params=extras)
        assert answered.status_code == 200, (path, answered.text)
