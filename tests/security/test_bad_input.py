"""Bad input: every one gets problem+json with the right 4xx, a detail that names the problem,
and writes nothing (every row of every table is compared before and after)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.security import JWT_ALGORITHM, issue_token, read_token
from tests.factories import login
from tests.security.helpers import (
    DEVICE_ID,
    World,
    assert_problem,
    build_world,
    report_issue,
    stored_rows,
)

HUGE = 10**30
REPORT = {
    "category": "pothole",
    "title": "Hole by the bus stop",
    "latitude": 13.72,
    "longitude": 100.52,
}
JSON = {"Content-Type": "application/json"}
NO_BODY = object()


# The usual problem type for a status; 400 and 409 name theirs.
SLUGS = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    412: "stale-version",
    413: "payload-too-large",
    405: "method-not-allowed",
    415: "unsupported-media-type",
    422: "validation-failed",
}


@dataclass(frozen=True)
class Bad:
    """One bad request and what it must be told. `path` and header values are formatted with the
    case's context: {issue} (claimed by A, so at version 2), {cursor}, {expired_token} and so on."""

    method: str
    path: str
    says: str  # a fragment the detail must contain
    status: int = 422
    slug: str = ""
    json: Any = NO_BODY
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    actor: str = "reporter"

    @property
    def problem_type(self) -> str:
        return self.slug or SLUGS[self.status]


def report(says: str, **changes: Any) -> Bad:
    """A report (POST /issues) with these fields changed from a good one."""
    return Bad("POST", "/issues", says, json={**REPORT, **changes})


def raw(says: str, content: bytes, status: int = 400, **headers: str) -> Bad:
    """A report whose body is these bytes, sent as JSON unless the headers say otherwise."""
    slug = "malformed-json" if status == 400 else ""
    return Bad("POST", "/issues", says, status, slug, content=content, headers=JSON | headers)


def listing(query: str, says: str, status: int = 422, slug: str = "") -> Bad:
    return Bad("GET", f"/issues?{query}", says, status, slug)


def step(body: dict[str, Any], says: str, status: int = 422, slug: str = "", **kw: Any) -> Bad:
    """A lifecycle step on the claimed issue (at version 2, as If-Match says unless `headers`
    say otherwise), by A's agent unless `actor` says otherwise."""
    return Bad(
        "POST",
        "/issues/{issue}/transitions",
        says,
        status,
        slug,
        json=body,
        **{"actor": "agent", "headers": CURRENT} | kw,
    )


CURRENT = {"If-Match": '"2"'}


def credentials(says: str, path: str = "/users/me", **headers: str) -> Bad:
    """A call with only these credentials."""
    return Bad("GET", path, says, 401, headers=headers, actor="anonymous")


DEVICE = {"X-Device-Id": DEVICE_ID}
CASES: dict[str, Bad] = {
    # Where and what
    "latitude above 90": report("body.latitude", latitude=91),
    "latitude below -90": report("body.latitude", latitude=-90.5),
    "longitude beyond 180": report("body.longitude", longitude=180.01),
    "latitude as text": report("body.latitude", latitude="13.72"),
    "latitude as a boolean": report("body.latitude", latitude=True),
    "latitude null": report("body.latitude", latitude=None),
    "latitude a huge integer": report("body.latitude", latitude=HUGE),
    "latitude missing": Bad("POST", "/issues", "body.latitude", json={"title": "Hole"}),
    "unknown category": report("Unknown category 'unicorns'", category="unicorns"),
    "empty title": report("body.title", title=""),
    "title of blanks": report("body.title", title="     "),
    "oversized title": report("body.title", title="x" * 201),
    "oversized description": report("body.description", description="x" * 5001),
    "title as a number": report("body.title", title=12345),
    "null byte in the title": report("control characters", title="Hole\x00by the stop"),
    "null byte in the description": report("body.description", description="a\x00b"),
    "escape character in the address": report("body.address", address="Soi 5\x1b[31m"),
    # Bidirectional controls make text read differently from what it holds ("Trojan Source")
    "right-to-left override in the title": report("body.title", title="Hole \u202egnp.exe"),
    "left-to-right embedding in the title": report("body.title", title="\u202aHole"),
    "directional isolate in the description": report("body.description", description="a\u2066b"),
    "right-to-left mark in the address": report("body.address", address="Soi 5\u200f"),
    "Arabic letter mark in a comment": Bad(
        "POST", "/issues/{issue}/comments", "body.body", json={"body": "Fixed\u061c?"}
    ),
    "pop directional isolate in a display name": Bad(
        "POST",
        "/auth/register",
        "body.display_name",
        json={
            "email": "new@example.org",
            "password": "a long enough password",
            "display_name": "Somchai\u2069",
        },
        actor="anonymous",
    ),
    "override in an agency's name": Bad(
        "PATCH",
        "/agencies/{handling}",
        "text-direction",
        json={"name_en": "West\u202d district"},
        actor="admin",
    ),
    "override in the text search": listing("q=hole%E2%80%AE", "q: must not contain control"),
    # Fields the caller may not set (mass assignment)
    "unknown field": report("body.colour", colour="red"),
    "setting the reporter": report("body.reporter_id", reporter_id=1),
    "setting the status": report("body.status", status="closed"),
    "setting the version": Bad(
        "PATCH",
        "/issues/{issue}",
        "body.version",
        json={"version": 99},
        headers=CURRENT,
        actor="agent",
    ),
    "erasing the title": Bad(
        "PATCH",
        "/issues/{issue}",
        "body.title",
        json={"title": None},
        headers=CURRENT,
        actor="agent",
    ),
    "erasing an agency's name": Bad(
        "PATCH", "/agencies/{handling}", "body.name_en", json={"name_en": None}, actor="admin"
    ),
    # The body as a whole
    "malformed JSON": raw("not valid JSON", b'{"title": '),
    "NaN is not JSON": raw("line 1", b'{"latitude": NaN}'),
    "Infinity is not JSON": raw("not valid JSON", b'{"latitude": -Infinity}'),
    "a number too big for a double": raw("infinity", b'{"latitude": 1e400}'),
    "a lone surrogate": raw("surrogate", b'{"title": "\\ud800"}'),
    "not UTF-8": raw("UTF-8", b'{"title": "caf\xe9"}'),
    "nested two thousand deep": raw("depth", b"[" * 2000 + b"]" * 2000),
    "an empty JSON body": raw("empty", b" "),
    "no body at all": raw("zero-length", b""),
    "a list, not an object": Bad("POST", "/issues", "body", json=[REPORT]),
    "plain text": raw("application/json", b"{}", 415, **{"Content-Type": "text/plain"}),
    "a form": raw(
        "application/json", b"t=x", 415, **{"Content-Type": "application/x-www-form-urlencoded"}
    ),
    "multipart without a boundary": Bad(
        "POST",
        "/issues",
        "no boundary",
        400,
        "bad-request",
        content=b"t=x",
        headers={"Content-Type": "multipart/form-data"},
    ),
    "no content type": Bad("POST", "/issues", "application/json", 415, content=b"{}"),
    "a body over the limit": raw("larger than 1000000 bytes", b" " * 1_000_001, 413),
    # Queries
    "bbox west of east": listing("bbox=100.6,13.7,100.5,13.8", "west must not exceed east"),
    "bbox south of north": listing("bbox=100.5,13.8,100.6,13.7", "south exceed north"),
    "bbox of three numbers": listing("bbox=100.5,13.7,100.6", "four numbers"),
    "bbox off the globe": listing("bbox=-200,13.7,100.6,13.8", "within -180..180"),
    "bbox of NaNs": listing("bbox=nan,nan,nan,nan", "bbox"),
    "negative radius": listing("lat=13.72&lon=100.52&radius=-5", "query.radius"),
    "zero radius": listing("lat=13.72&lon=100.52&radius=0", "query.radius"),
    "absurd radius": listing("lat=13.72&lon=100.52&radius=1e9", "at most 50000 metres"),
    "infinite radius": listing("lat=13.72&lon=100.52&radius=inf", "radius"),
    "radius without a centre": listing("radius=500", "radius needs lat and lon"),
    "latitude without longitude": listing("lat=13.72", "lat and lon go together"),
    "latitude as a word": listing("lat=north&lon=100.52&radius=500", "query.lat"),
    "latitude NaN": listing("lat=nan&lon=100.52&radius=500", "query.lat"),
    "nearest without a radius": listing("sort=nearest", "sort=nearest needs"),
    "unknown sort": listing("sort=oldest", "query.sort"),
    "unknown status": listing("status=open,lost", "unknown status 'lost'"),
    "unknown category filter": listing("category=unicorns", "Unknown category 'unicorns'"),
    "null byte in the category filter": listing("category=pot%00hole", "control characters"),
    "null byte in the text search": listing("q=hole%00", "q: must not contain control characters"),
    "agency id as a word": listing("agency=west", "query.agency"),
    "agency id too big to store": listing(f"agency={HUGE}", "query.agency"),
    "a date that is not one": listing("created_after=yesterday", "query.created_after"),
    "time range the wrong way round": listing(
        "created_after=2026-02-01&created_before=2026-01-01", "later than created_after"
    ),
    "page size zero": listing("limit=0", "query.limit"),
    "page size too big": listing("limit=201", "at most 200"),
    "page size as a word": listing("limit=all", "query.limit"),
    "page size a huge integer": listing(f"limit={HUGE}", "limit"),
    "a cursor this API never made": listing(
        "cursor=eyJzIjoiIn0.forged", "not one this API issued", 400, "invalid-cursor"
    ),
    "a tampered cursor": listing(
        "limit=1&cursor={tampered_cursor}", "not one this API issued", 400, "invalid-cursor"
    ),
    "a cursor from another query": listing(
        "limit=1&status=open&cursor={cursor}", "other filters", 400, "invalid-cursor"
    ),
    # Ids in paths and bodies
    "an issue id that does not exist": Bad("GET", "/issues/ZZZZZZZZZZ", "No issue with id", 404),
    "an issue id with a null byte": Bad("GET", "/issues/AB%00CD", "No issue with id", 404),
    "an agency id that does not exist": Bad("GET", "/agencies/999999", "No agency with id", 404),
    "an agency id too big to store": Bad(
        "GET", f"/agencies/{HUGE}/queue", "path.agency_id", actor="admin"
    ),
    "a path that does not exist": Bad("GET", "/issue/{issue}", "Not Found", 404),
    "a method the path does not take": Bad("PUT", "/issues/{issue}", "Method Not Allowed", 405),
    "an API key id too big to store": Bad(
        "DELETE", f"/users/me/api-keys/{HUGE}", "path.key_id", actor="agent"
    ),
    "staff of an agency id too big": Bad(
        "POST",
        "/users",
        "body.agency_id",
        json={
            "email": "new.agent@example.org",
            "password": "a long enough password",
            "display_name": "New agent",
            "role": "agent",
            "agency_id": HUGE,
        },
        actor="admin",
    ),
    # The lifecycle
    "an unknown action": step({"action": "demolish"}, "does not match any of the expected tags"),
    "resolve without a resolution": step({"action": "resolve"}, "body.resolve.resolution"),
    "an unknown resolution": step({"action": "resolve", "resolution": "magic"}, "resolution"),
    "transfer to no such agency": step(
        {"action": "transfer", "to_agency": 999_999, "note": "x"}, "existing agency"
    ),
    "transfer to an id too big": step(
        {"action": "transfer", "to_agency": HUGE, "note": "x"}, "to_agency"
    ),
    "a step not allowed from the status": step(
        {"action": "close"}, "allowed now: start, resolve, transfer", 409, "invalid-transition"
    ),
    "another agency's issue": step(
        {"action": "resolve", "resolution": "fixed"},
        "another agency handles it",
        403,
        actor="outsider",
    ),
    "a stale If-Match on a step": step(
        {"action": "start"}, "version 2, not 1", 412, headers={"If-Match": '"1"'}
    ),
    "a stale If-Match on an edit": Bad(
        "PATCH",
        "/issues/{issue}",
        "version 2, not 1",
        412,
        json={"title": "Hole"},
        headers={"If-Match": '"1"'},
        actor="agent",
    ),
    "no If-Match on a staff step": step(
        {"action": "start"}, "send If-Match", 428, "precondition-required", headers={}
    ),
    "no If-Match on a staff edit": Bad(
        "PATCH",
        "/issues/{issue}",
        "send If-Match",
        428,
        "precondition-required",
        json={"title": "Hole"},
        actor="agent",
    ),
    "an If-Match that is no ETag": Bad(
        "PATCH",
        "/issues/{issue}",
        "If-Match",
        400,
        "bad-request",
        json={"title": "Hole"},
        headers={"If-Match": "2"},
        actor="agent",
    ),
    # Headers and credentials
    "an Idempotency-Key too short": Bad(
        "POST", "/issues", "header.idempotency-key", json=REPORT, headers={"Idempotency-Key": "k"}
    ),
    "an Idempotency-Key too long": Bad(
        "POST",
        "/issues",
        "header.idempotency-key",
        json=REPORT,
        headers={"Idempotency-Key": "k" * 256},
    ),
    "a device id too short": Bad(
        "POST",
        "/issues",
        "X-Device-Id",
        401,
        json=REPORT,
        headers={"X-Device-Id": "phone"},
        actor="anonymous",
    ),
    "a device id too long": Bad(
        "POST",
        "/issues",
        "X-Device-Id",
        401,
        json=REPORT,
        headers={"X-Device-Id": "d" * 129},
        actor="anonymous",
    ),
    "an expired token": credentials("expired", Authorization="Bearer {expired_token}"),
    "a token signed with another key": credentials("invalid", Authorization="Bearer {forged}"),
    "an unsigned token (alg none)": credentials("invalid", Authorization="Bearer {unsigned}"),
    "a refresh token used to call": credentials("invalid", Authorization="Bearer {refresh}"),
    "a token of no user": credentials("invalid", Authorization="Bearer {ghost_token}"),
    "a token that is garbage": credentials("invalid", Authorization="Bearer not.a.jwt"),
    "a bearer without a token": credentials("Bearer <token>", Authorization="Bearer"),
    "basic auth": credentials("Bearer <token>", Authorization="Basic YWRtaW46YWRtaW4="),
    "garbage credentials on a public read": credentials(
        "Bearer <token>", "/issues/{issue}", Authorization="letmein"
    ),
    "garbage credentials with a device id": credentials(
        "Bearer <token>", "/users/me/issues", Authorization="Token abc", **DEVICE
    ),
    "garbage credentials on sign-up": Bad(
        "POST",
        "/auth/register",
        "Bearer <token>",
        401,
        json={
            "email": "new@example.org",
            "password": "a long enough password",
            "display_name": "N",
        },
        headers={"Authorization": "Basic bmV3Og=="},
        actor="anonymous",
    ),
    "an unknown API key": credentials("API key", **{"X-API-Key": "clk_not-a-key"}),
    "a revoked API key": credentials("revoked", **{"X-API-Key": "{revoked_key}"}),
}


@pytest.fixture
def world(db: Session, database: Database, settings: Settings) -> World:
    return build_world(db, database, settings)


def _token(settings: Settings, payload: dict[str, Any], key: str | None = None) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": "1",
        "sid": 1,
        "gen": 0,
        "typ": "access",
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
    }
    return jwt.encode({**claims, **payload}, key or settings.secret_key, algorithm=JWT_ALGORITHM)


async def _context(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, world: World
) -> dict[str, str]:
    """The values the cases refer to, made the way a client would come by them."""
    issue = report_issue(db, database, settings, world, "acknowledged")
    report_issue(db, database, settings, world, "open")
    page = await client.get("/api/v1/issues?limit=1")
    cursor = page.json()["next_cursor"]
    assert cursor
    agent_id = str(world.users["agent"].id)
    agent_login = login(settings, world.users["agent"])
    agent_session = read_token(settings, agent_login.access_token, expected="access")
    assert agent_session is not None
    sid = agent_session.session_id
    ghost_token, _ = issue_token(settings, user_id=999_999, session_id=sid, token_type="access")
    revoked = await _revoked_key(client, world)
    return {
        "issue": issue,
        "handling": str(world.handling.id),
        "cursor": cursor,
        "tampered_cursor": cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"),
        "expired_token": _token(
            settings,
            {"sub": agent_id, "sid": sid, "exp": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)},
        ),
        "forged": _token(settings, {"sub": agent_id, "sid": sid}, key="another-secret-" * 4),
        "unsigned": jwt.encode(
            {"sub": agent_id, "sid": sid, "gen": 0, "typ": "access"}, "", algorithm="none"
        ),
        "refresh": agent_login.refresh_token,
        "ghost_token": ghost_token,
        "revoked_key": revoked,
    }


async def _revoked_key(client: httpx.AsyncClient, world: World) -> str:
    """A key the manager made and then revoked, through the API."""
    made = await client.post(
        "/api/v1/users/me/api-keys", headers=world.headers["manager"], json={"name": "old"}
    )
    assert made.status_code == 201, made.text
    gone = await client.delete(
        f"/api/v1/users/me/api-keys/{made.json()['id']}", headers=world.headers["manager"]
    )
    assert gone.status_code == 200, gone.text
    key: str = made.json()["key"]
    return key


def _documents(app: FastAPI, response: httpx.Response) -> bool:
    """Whether the OpenAPI document lists this status for the operation that answered (a path
    no operation has, or a method it does not take, has nothing to document it)."""
    method, path = response.request.method.lower(), response.request.url.path
    # Literal paths before templated ones: /issues/unrouted is not /issues/{issue_id}.
    for template, operations in sorted(
        app.openapi()["paths"].items(), key=lambda p: p[0].count("{")
    ):
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method in operations:
            return str(response.status_code) in operations[method]["responses"]
    return True


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_bad_input(
    case: Bad,
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    world: World,
) -> None:
    context = await _context(client, db, database, settings, world)
    headers = {
        **world.headers[case.actor],
        **{name: value.format(**context) for name, value in case.headers.items()},
    }
    request: dict[str, Any] = {"headers": headers}
    if case.json is not NO_BODY:
        request["json"] = case.json
    elif case.content is not None:
        request["content"] = case.content
    before = stored_rows(database)
    response = await client.request(case.method, "/api/v1" + case.path.format(**context), **request)
    body = assert_problem(response, case.status, case.problem_type)
    assert case.says in body["detail"], body
    assert stored_rows(database) == before, "a refused request wrote something"
    assert _documents(app, response), f"{case.status} is not in the OpenAPI document"
    # RFC 9457: the type is a URI a person can open to read what the problem means.
    page = await client.get(urlsplit(body["type"]).path)
    assert page.status_code == 200, body["type"]
    assert body["title"] in page.text


async def test_a_body_over_the_limit_is_refused_while_it_streams(
    client: httpx.AsyncClient, database: Database, world: World, settings: Settings
) -> None:
    """No Content-Length to go by: the limit is counted as the chunks arrive."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(settings.max_body_bytes // 10_000 + 1):
            yield b" " * 10_000

    before = stored_rows(database)
    response = await client.post(
        "/api/v1/issues", headers={**world.headers["reporter"], **JSON}, content=chunks()
    )
    assert "content-length" not in response.request.headers
    body = assert_problem(response, 413, "payload-too-large")
    assert body["max_body_bytes"] == settings.max_body_bytes
    assert stored_rows(database) == before


async def test_a_body_at_the_limit_is_read(
    client: httpx.AsyncClient, database: Database, world: World, settings: Settings
) -> None:
    """The limit is the largest body accepted, not the first refused."""
    payload = httpx.Request("POST", "/", json=REPORT).content
    padded = payload[:-1] + b" " * (settings.max_body_bytes - len(payload)) + b"}"
    assert len(padded) == settings.max_body_bytes
    response = await client.post(
        "/api/v1/issues", headers={**world.headers["reporter"], **JSON}, content=padded
    )
    assert response.status_code == 201, response.text
