"""`civicloop import open311 URL`: real GeoReport v2 answers (the City of Cologne's two
servers) served over HTTP, and a live civicloop server in a second process whose requests
come back field by field after the import."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely
from shapely.geometry import MultiPolygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.dbmigrate import upgrade
from app.importers import run
from app.importers.open311 import Open311Client
from app.importers.records import Tally
from app.models import Agency, Category, Issue, IssueEvent, IssueImport, IssueStatus, Role, User
from app.security import hash_password
from tests.factories import IN_WEST, PASSWORD, WEST_DISTRICT, count, make_api_key
from tests.importers.conftest import DATA
from tests.platform.server import START_TIMEOUT_S

REPO = Path(__file__).resolve().parents[2]
SINCE = dt.datetime(2023, 12, 1, tzinfo=dt.UTC)
ARCHIVE = DATA / "open311-cologne-requests-2023-12.json"
MARK_A_SPOT = DATA / "open311-cologne-markaspot-requests-2023-12.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def recorded_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """Answers requests.json with a recorded real answer (whatever the window or page, as a
    server without those extensions would) and services.json with the services it names."""
    requests: list[dict[str, Any]] = json.loads(Path(request.param).read_text())
    services = {r["service_code"]: r["service_name"] for r in requests}
    bodies = {
        "/v2/requests.json": json.dumps(requests).encode(),
        "/v2/services.json": json.dumps(
            [{"service_code": c, "service_name": n} for c, n in services.items()]
        ).encode(),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path.split("?")[0])
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"[]")

        def log_message(self, *_args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v2"
    finally:
        server.shutdown()
        server.server_close()


def _import(database: Database, url: str, **options: Any) -> Tally:
    with httpx.Client(trust_env=False) as http:
        client = Open311Client(http, url, jurisdiction_id=None)
        return run.import_open311(database, client=client, since=SINCE, **options)


@pytest.mark.parametrize("recorded_server", [ARCHIVE], indirect=True)
def test_a_real_open311_answer_imports_with_absent_keys_and_a_second_run_imports_nothing(
    database: Database, db: Session, recorded_server: str
) -> None:
    records = json.loads(ARCHIVE.read_text())
    tally = _import(database, recorded_server)
    # The real answer lists A-173374 twice: one issue per id.
    distinct = {r["service_request_id"] for r in records}
    assert (tally.imported, tally.rejected) == (len(distinct), [])
    assert tally.imported == 49

    # A record without description and media_url keys (absent, not null).
    bare = next(r for r in records if "description" not in r and "media_url" not in r)
    origin = db.scalars(
        select(IssueImport).where(IssueImport.external_id == bare["service_request_id"])
    ).one()
    issue = db.get_one(Issue, origin.issue_id)
    assert origin.source == f"open311:{recorded_server}"
    assert origin.media_urls == []
    assert issue.status == IssueStatus.open
    assert issue.address == bare["address"]
    assert issue.created_at == dt.datetime.fromisoformat(bare["requested_datetime"])
    category = db.get_one(Category, issue.category_id)
    # Service codes with leading zeros stay strings.
    assert (category.code, category.name_en) == (bare["service_code"], bare["service_name"])

    # The next run asks for what changed since (this server answers everything again).
    again = _import(database, recorded_server)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 49)
    assert count(db, Issue) == 49


@pytest.mark.parametrize("recorded_server", [MARK_A_SPOT], indirect=True)
def test_the_mark_a_spot_dialect_imports_with_its_html_notes_as_text(
    database: Database, db: Session, recorded_server: str
) -> None:
    records = json.loads(MARK_A_SPOT.read_text())
    tally = _import(database, recorded_server)
    assert (tally.imported, tally.rejected) == (100, [])

    noted = next(
        r for r in records if r["status"] == "closed" and "<p>" in (r["status_note"] or "")
    )
    origin = db.scalars(
        select(IssueImport).where(IssueImport.external_id == noted["service_request_id"])
    ).one()
    issue = db.get_one(Issue, origin.issue_id)
    assert issue.status == IssueStatus.closed
    assert issue.address == noted["address_string"]
    assert issue.title == noted["title"]
    assert origin.media_urls == ([noted["media_url"]] if noted["media_url"] else [])
    # The closing event carries the agency's reply as text: no tags, no entities.
    note = db.scalars(
        select(IssueEvent.note).where(IssueEvent.issue_id == issue.id, IssueEvent.note.is_not(None))
    ).one()
    assert note
    assert "<" not in note
    assert "&nbsp;" not in note


def _city(session: Session) -> tuple[Category, Agency]:
    """The same catalogue on both sides, as a city file applied to both would make it."""
    pothole = Category(
        code="pothole",
        group="roads",
        name_th="หลุมบนถนน",
        name_en="Pothole",
        keywords=[],
        flags=[],
        acknowledge_target_hours=24,
        resolve_target_hours=168,
        attributes=[],
    )
    west = Agency(
        slug="west",
        name_th="เขตตะวันตก",
        name_en="West District Office",
        jurisdiction=MultiPolygon([shapely.box(*WEST_DISTRICT)]),
        categories=[pothole],
    )
    session.add_all([pothole, west])
    session.commit()
    return pothole, west


@pytest.fixture
def source_server(tmp_path: Path) -> Iterator[tuple[str, Database, User, str]]:
    """Another civicloop (its own SQLite database) served by uvicorn in a second process."""
    source = Database(f"sqlite:///{tmp_path / 'source.db'}")
    upgrade(source.engine)
    session = source.session(write=True)
    _, west = _city(session)
    agent = User(
        email="agent@west.example",
        password_hash=hash_password(PASSWORD),
        role=Role.agent,
        agency_id=west.id,
        display_name="Agent",
    )
    integration = User(email="app@example.org", display_name="App")
    session.add_all([agent, integration])
    session.commit()
    api_key = make_api_key(session, integration)
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "CIVICLOOP_DATABASE_URL": str(source.engine.url),
        "CIVICLOOP_SECRET_KEY": "source-server-secret-key-long-enough-0123456789",
        "CIVICLOOP_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, trust_env=False) as probe:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                assert process.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "the source server did not start"
                try:
                    if probe.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        yield base, source, agent, api_key
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
        session.close()
        source.dispose()


def _step(http: httpx.Client, token: str, issue_id: str, action: str, **body: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    etag = http.get(f"/api/v1/issues/{issue_id}", headers=headers).headers["ETag"]
    done = http.post(
        f"/api/v1/issues/{issue_id}/transitions",
        headers={**headers, "If-Match": etag},
        json={"action": action, **body},
    )
    assert done.status_code == 200, done.text


async def test_an_import_from_a_live_civicloop_server_round_trips_every_field(
    database: Database,
    db: Session,
    client: httpx.AsyncClient,
    source_server: tuple[str, Database, User, str],
) -> None:
    base, _source, agent, api_key = source_server
    _city(db)
    with httpx.Client(base_url=base, trust_env=False) as http:
        ids = []
        for n, media in enumerate(["https://photos.example/1.jpg", None, None]):
            form = {
                "api_key": api_key,
                "service_code": "pothole",
                "lat": str(IN_WEST[1] + n / 1000),
                "long": str(IN_WEST[0]),
                "address_string": f"Silom Soi {n + 1}",
                "address_id": f"ADDR-{n}",
                "description": f"Hole number {n + 1}\nIn the left lane",
            }
            if media:
                form["media_url"] = media
            created = http.post("/open311/v2/requests.json", data=form)
            assert created.status_code == 201, created.text
            ids.append(created.json()[0]["service_request_id"])
        token = http.post(
            "/api/v1/auth/login", json={"email": agent.email, "password": PASSWORD}
        ).json()["access_token"]
        _step(http, token, ids[1], "claim")
        _step(http, token, ids[2], "claim")
        _step(http, token, ids[2], "resolve", resolution="fixed", note="Filled and rolled")
        originals = {
            i: http.get(f"/open311/v2/requests/{i}.json", params={"extensions": "true"}).json()[0]
            for i in ids
        }

    tally = _import(database, f"{base}/open311/v2")
    assert (tally.imported, tally.rejected) == (3, [])

    for original_id, original in originals.items():
        origin = db.scalars(select(IssueImport).where(IssueImport.external_id == original_id)).one()
        public_id = db.get_one(Issue, origin.issue_id).public_id
        answer = await client.get(
            f"/open311/v2/requests/{public_id}.json", params={"extensions": "true"}
        )
        copy = answer.json()[0]
        assert copy.pop("service_request_id") == public_id
        original.pop("service_request_id")
        # The token belongs to the client that posted to the source server.
        original["extended_attributes"].pop("token")
        copy["extended_attributes"].pop("token")
        assert copy == original

    again = _import(database, f"{base}/open311/v2")
    assert (again.imported, again.updated) == (0, 0)
