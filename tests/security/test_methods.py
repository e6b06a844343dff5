"""Methods as HTTP defines them, on every route of the app: HEAD answers wherever GET does, with
the same headers and no body; a 405 names in `Allow` every method the path takes."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from tests.security.helpers import build_world, report_issue

# Headers that differ between any two answers, whatever the method.
PER_ANSWER = {"date", "x-request-id"}
PROBED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _paths(app: FastAPI, method: str | None = None) -> list[str]:
    """Every route's path template (taking `method`, when given), in routing order."""
    found = []
    for route in iter_route_contexts(app.routes):
        if route.path_format and route.methods and (method is None or method in route.methods):
            found.append(route.path_format)
    return list(dict.fromkeys(found))


def _url(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), template)


def _headers(response: httpx.Response) -> dict[str, str]:
    """The headers, with what differs between two renderings of one page masked: a cookie's
    value (a page's form token is new in every answer) and a compressed answer's length (the
    token compresses differently each time)."""
    compressed = "content-encoding" in response.headers
    masked = {}
    for name, value in response.headers.items():
        if name == "set-cookie":
            value = re.sub(r"(^|, )([^=;, ]+)=[^;]*", r"\1\2=…", value)
        elif name == "content-length" and compressed:
            value = "…"
        if name not in PER_ANSWER:
            masked[name] = value
    return masked


async def test_every_get_route_answers_head_with_the_headers_of_get(
    app: FastAPI, client: httpx.AsyncClient, db: Session, database: Database, settings: Settings
) -> None:
    world = build_world(db, database, settings)
    issue = report_issue(db, database, settings, world, "acknowledged")
    values = {"issue_id": issue, "agency_id": str(world.handling.id), "fmt": "json"}
    admin = world.headers["admin"]
    paths = _paths(app, "GET")
    assert len(paths) > 40
    for template in paths:
        url = _url(template, values)
        get = await client.get(url, headers=admin)
        head = await client.head(url, headers=admin)
        assert head.status_code == get.status_code, (url, head.status_code, get.text)
        assert head.content == b"", url
        assert _headers(head) == _headers(get), url


async def test_allow_names_every_method_the_path_takes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Asked with each method in turn, a path answers 405 for exactly the methods its `Allow`
    leaves out (GET and POST on /api/v1/issues are two routes: both are named)."""
    refused = 0
    for template in _paths(app):
        url = _url(template, {"fmt": "json"})
        answers = {method: await client.request(method, url) for method in PROBED}
        taken = {method for method, answer in answers.items() if answer.status_code != 405}
        for method, answer in answers.items():
            if answer.status_code != 405:
                continue
            refused += 1
            allow = {name.strip() for name in answer.headers["allow"].split(",")}
            assert allow == taken, (method, url, answer.headers["allow"])
            if method != "HEAD":
                assert answer.headers["content-type"] == "application/problem+json"
                assert answer.json()["detail"].endswith(f"allowed: {answer.headers['allow']}")
    assert refused > 100


async def test_the_issue_list_allows_reading_and_reporting(client: httpx.AsyncClient) -> None:
    refused = await client.put("/api/v1/issues")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD, POST"
