"""The `civicloop` command as a new user runs it: serve, migrate, demo-data — then the README's
story over real HTTP against a real server process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely
from sqlalchemy import Table, inspect, select

from app.db import Database
from app.dbmigrate import pending_migrations
from app.demo import DEMO_EMAIL_DOMAIN
from app.models import Agency, Base, Category, Role, User
from tests.platform.conftest import NewDatabase
from tests.platform.server import CIVICLOOP, clean_environment, free_port, run, serving

SILOM_SOI_5 = {"latitude": 13.7262, "longitude": 100.5290}  # in Bang Rak, as in the README
DEVICE = "6f1c2a7e-0d4b-4c1e-9a55-6d9f0c1b2e3a"
DEMO_PASSWORD = "civicloop-demo"
# Bangkok covers about 1,569 km²; one degree is ~110.6 km north-south, ~107.5 km east-west here.
KM2_PER_SQUARE_DEGREE = 110.6 * 107.5


@pytest.fixture
def configured(db_kind: str, new_database: NewDatabase, tmp_path: Path) -> dict[str, str]:
    """The environment a user sets: nothing at all on SQLite, the database URL on PostGIS."""
    if db_kind == "sqlite":
        return clean_environment()
    return clean_environment(CIVICLOOP_DATABASE_URL=new_database())


def database_of(environment: dict[str, str], cwd: Path) -> Database:
    url = environment.get("CIVICLOOP_DATABASE_URL") or f"sqlite:///{cwd / 'var/civicloop.db'}"
    return Database(url)


def stored_tables(environment: dict[str, str], cwd: Path) -> list[str]:
    """Tables in the configured database (none when the SQLite file was never created)."""
    if "CIVICLOOP_DATABASE_URL" not in environment and not (cwd / "var").exists():
        return []
    database = database_of(environment, cwd)
    try:
        return inspect(database.engine).get_table_names()
    finally:
        database.dispose()


def rows(database: Database) -> dict[str, list[Any]]:
    """Every stored row, table by table, in key order."""
    with database.engine.connect() as connection:
        tables: list[Table] = list(Base.metadata.sorted_tables)
        return {
            t.name: list(connection.execute(select(t).order_by(*t.primary_key.columns)))
            for t in tables
        }


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_creates_migrates_and_serves_then_stops_cleanly_on_sigterm(
    configured: dict[str, str], tmp_path: Path, workers: int
) -> None:
    port = free_port()
    command = [CIVICLOOP, "serve", "--port", str(port), "--workers", str(workers)]
    with serving(command, env=configured, cwd=tmp_path, port=port) as server:
        ready = server.wait_until("/readyz").json()
        expected = "postgresql" if "CIVICLOOP_DATABASE_URL" in configured else "sqlite"
        assert ready == {"status": "ok", "database": expected}
        assert httpx.get(f"{server.base_url}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{server.base_url}/api/v1/categories").json() == []
        docs = httpx.get(f"{server.base_url}/docs")
        assert docs.status_code == 200
        assert "swagger-ui" in docs.text

        assert server.terminate() == 0, server.output()
        assert not server.is_listening()
    if "CIVICLOOP_DATABASE_URL" not in configured:
        # The README's promise: the embedded database appears on first start.
        assert (tmp_path / "var" / "civicloop.db").is_file()
    database = database_of(configured, tmp_path)
    try:
        assert pending_migrations(database.engine) == []
    finally:
        database.dispose()
    if workers > 1:
        assert server.output().count("Started server process") == workers


def test_migrate_brings_an_empty_database_to_head_and_is_idempotent(
    configured: dict[str, str], tmp_path: Path
) -> None:
    for _ in range(2):
        result = run([CIVICLOOP, "migrate"], env=configured, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "database migrated" in result.stdout
    database = database_of(configured, tmp_path)
    try:
        assert pending_migrations(database.engine) == []
        assert rows(database)["category"] == []
    finally:
        database.dispose()


def test_demo_data_refuses_a_production_database(
    configured: dict[str, str], tmp_path: Path
) -> None:
    production = {
        **configured,
        "CIVICLOOP_ENVIRONMENT": "production",
        "CIVICLOOP_SECRET_KEY": "a-production-secret-of-more-than-32-characters",
    }
    result = run([CIVICLOOP, "demo-data"], env=production, cwd=tmp_path)
    assert result.returncode == 2
    assert "production" in result.stderr
    assert stored_tables(configured, tmp_path) == []


def test_demo_city_loads_once_and_the_readme_story_works_over_http(
    configured: dict[str, str], tmp_path: Path
) -> None:
    loaded = run([CIVICLOOP, "demo-data"], env=configured, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    database = database_of(configured, tmp_path)
    try:
        first = rows(database)
        again = run([CIVICLOOP, "demo-data"], env=configured, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "300 new issues" in loaded.stdout
        assert (
            "0 new categories, 0 new agencies, 0 new districts, 0 new users, 0 new issues"
            in again.stdout
        )
        assert rows(database) == first

        with database.session(write=False) as session:
            agencies = list(session.scalars(select(Agency)))
            categories = list(session.scalars(select(Category)))
            users = list(session.scalars(select(User)))
    finally:
        database.dispose()

    districts = [a for a in agencies if a.slug.startswith("district-")]
    assert len(districts) == 50
    assert len({a.name_th for a in districts}) == 50
    city_km2 = shapely.union_all([a.jurisdiction for a in districts]).area * KM2_PER_SQUARE_DEGREE
    assert 1500 < city_km2 < 1650
    # Real outlines (over a thousand vertices in all), not 50 rectangles.
    assert sum(shapely.get_num_coordinates(a.jurisdiction) for a in districts) > 1000
    assert len(categories) >= 10
    for category in categories:
        assert any("\u0e00" <= ch <= "\u0e7f" for ch in category.name_th), category.name_th
        assert category.name_en.isascii()
    roles = {(u.role, u.agency_id) for u in users}
    for agency in agencies:
        assert {(Role.manager, agency.id), (Role.agent, agency.id)} <= roles
    assert any(u.role == Role.admin for u in users)

    port = free_port()
    with serving(
        [CIVICLOOP, "serve", "--port", str(port)], env=configured, cwd=tmp_path, port=port
    ) as server:
        server.wait_until("/readyz")
        with httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=30) as api:
            readme_story(api)
        assert server.terminate() == 0, server.output()


def login(api: httpx.Client, slug: str, role: str = "agent") -> dict[str, str]:
    answer = api.post(
        "/auth/login",
        json={"email": f"{role}.{slug}@{DEMO_EMAIL_DOMAIN}", "password": DEMO_PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def readme_story(api: httpx.Client) -> None:
    reporter = {"X-Device-Id": DEVICE}
    reported = api.post(
        "/issues",
        headers={**reporter, "Idempotency-Key": "5b0e9d3c-report-1"},
        json={"category": "streetlight", "title": "Lamp out on Silom Soi 5", **SILOM_SOI_5},
    )
    assert reported.status_code == 201, reported.text
    issue_id = reported.json()["id"]

    agencies = {a["slug"]: a["id"] for a in api.get("/agencies").json()}
    agent = login(api, "district-bang-rak")
    queue = api.get(f"/agencies/{agencies['district-bang-rak']}/queue", headers=agent)
    # Beside the demo's own reports of the past weeks.
    assert issue_id in [i["id"] for i in queue.json()["items"]]

    # Another district's office cannot touch it.
    stranger = login(api, "district-pathum-wan")

    # Staff changes name the version they saw (the issue's ETag).
    def versioned(headers: dict[str, str]) -> dict[str, str]:
        return {**headers, "If-Match": api.get(f"/issues/{issue_id}").headers["ETag"]}

    refused = api.post(
        f"/issues/{issue_id}/transitions", headers=versioned(stranger), json={"action": "claim"}
    )
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"

    for action, extra, status in (
        ("claim", {}, "acknowledged"),
        ("start", {}, "in_progress"),
        ("resolve", {"resolution": "fixed", "note": "New lamp fitted"}, "resolved"),
    ):
        moved = api.post(
            f"/issues/{issue_id}/transitions",
            headers=versioned(agent),
            json={"action": action, **extra},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status

    timeline = api.get(f"/issues/{issue_id}/events", headers=reporter)
    assert [(e["action"], e["to_status"]) for e in timeline.json()] == [
        ("reported", "open"),
        ("claimed", "acknowledged"),
        ("started", "in_progress"),
        ("resolved", "resolved"),
    ]
    mine = api.get("/users/me/issues", headers=reporter).json()["items"]
    assert [(i["id"], i["status"]) for i in mine] == [(issue_id, "resolved")]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])  # noqa: S104
def test_serve_refuses_a_public_interface_with_the_development_key(
    tmp_path: Path, host: str
) -> None:
    # Anyone can sign tokens with the development key: it must not be reachable from outside.
    result = run([CIVICLOOP, "serve", "--host", host], env=clean_environment(), cwd=tmp_path)
    assert result.returncode == 2
    assert "development signing key" in result.stderr
    assert "CIVICLOOP_SECRET_KEY" in result.stderr
    assert not (tmp_path / "var").exists()  # refused before migrating anything


@pytest.mark.parametrize("command", ["serve", "worker"])
@pytest.mark.parametrize("key", [None, "short"])  # None: the development key, the default
def test_production_refuses_to_start_without_a_real_key(
    tmp_path: Path, command: str, key: str | None
) -> None:
    environment = clean_environment(CIVICLOOP_ENVIRONMENT="production")
    if key is not None:
        environment["CIVICLOOP_SECRET_KEY"] = key
    result = run([CIVICLOOP, command], env=environment, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("civicloop: invalid configuration: ")
    assert "CIVICLOOP_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var").exists()
