"""The benchmarks keep running: each harness in bench/ runs end to end on a small data set, as a
real process, so a change of the API's shapes or SQL that the bench no longer matches fails here
instead of on the day someone wants figures. Nothing about speed is asserted: only that every
harness measured what it says (no failed request, a result for every scenario).

`bench.run`, `bench.exports`, `bench.similar`, `bench.small`, `bench.versus` (against the Django
baseline in bench/baseline) and `bench.notifications` measure PostGIS (the PostGIS leg runs
them); `bench.photos`, `bench.limits` and `bench.pages` (the public map in Chromium) run on
embedded SQLite (the SQLite leg).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from app.config import Settings
from app.main import create_app
from tests.platform.server import clean_environment

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
SMALL = ["--issues", "2000", "--warmup", "2", "--concurrency", "2"]
VERSUS_SCENARIOS = (
    "service list", "requests page", "bbox", "radius 500 m", "single request", "POST"
)  # fmt: skip


def bench(module: str, args: Sequence[str], **env: str) -> str:
    """`python -m bench.<module> ...` as CI would run it; its output, or the failure shown."""
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=ROOT,
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"bench.{module} failed:\n{done.stdout[-3000:]}\n{done.stderr}"
    return done.stdout


def result(results: Path, pattern: str) -> dict[str, Any]:
    (path,) = results.glob(pattern)
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


@pytest.fixture
def postgis_admin(db_kind: str, database_url: str) -> str:
    if db_kind != "postgis":
        pytest.skip("bench.run and its PostGIS siblings run on the PostGIS leg")
    return make_url(database_url).set(database="postgres").render_as_string(hide_password=False)


@pytest.fixture
def bench_database(postgis_admin: str) -> Iterator[str]:
    """A bench database name of this test's own (the harness creates it), dropped afterwards."""
    name = f"civicloop_bench_test_{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        engine = create_engine(
            make_url(postgis_admin).set(drivername="postgresql+psycopg"),
            isolation_level="AUTOCOMMIT",
        )
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def test_the_api_benchmark_and_its_siblings_run_on_a_small_city(
    postgis_admin: str, bench_database: str, tmp_path: Path
) -> None:
    where = ["--postgres-url", postgis_admin, "--database", bench_database]
    out = ["--results-dir", str(tmp_path)]
    printed = bench("run", [*SMALL, "--requests", "20", "--creates", "6", *where, *out])
    run = result(tmp_path, "bench-2000-*.json")
    assert run["seed"]["issues"] == 2000
    # With what hangs off the issues: every reporter follows their report, every photo has its
    # three renditions, and some issues are supported.
    rows = run["seed"]["rows"]
    assert rows["follow"] >= rows["issue"] == 2000
    assert rows["photo_file"] == 3 * rows["photo"] >= 3 * 2000
    assert rows["support"] > 0
    # Every scenario at both levels, with every request answered as documented.
    measured = {(row["scenario"], row["concurrency"]) for row in run["results"]}
    assert measured == {(s, c) for s in ("radius 500 m", "bbox", "create") for c in (1, 2)}
    assert all(row["api"]["errors"] == row["direct"]["errors"] == 0 for row in run["results"])
    assert all(row["api"]["requests"] == row["direct"]["requests"] > 0 for row in run["results"])
    assert "ratio" in printed
    # The create replayed directly is the app's own: its INSERT of the issue is among them.
    assert any(head.startswith("INSERT INTO issue (") for head in run["sql"]["create_example"])

    # The same seeded city serves the exports/statistics and similar-search benchmarks.
    reuse = ["--issues", "2000", "--reuse", *where, *out]
    bench("exports", [*reuse, "--runs", "1", "--stats-runs", "1"])
    exports = result(tmp_path, "exports-2000-*.json")
    assert {e["name"] for e in exports["exports"]} >= {"COPY csv (direct)", "API csv"}
    # Every issue, the ones the create runs added included, through each side.
    assert len({e["rows"] for e in exports["exports"]}) == 1
    assert exports["exports"][0]["rows"] > 2000
    bench("similar", [*reuse, "--requests", "10", "--warmup", "2", "--concurrency", "2"])
    assert len(result(tmp_path, "similar-2000-*.json")["runs"]) == 2
    variants = ["--variant", "w1", "--variant", "w2:http=h11,loop=asyncio"]
    bench("small", [*reuse, "--requests", "10", "--warmup", "2", "--concurrency", "2", *variants])
    small = result(tmp_path, "small-2000-*.json")["results"]
    assert {(r["variant"], r["concurrency"]) for r in small} == {
        (v, c) for v in ("w1", "w2:http=h11,loop=asyncio") for c in (1, 2)
    }
    assert all(r["requests"] == 10 and r["errors"] == 0 for r in small)

    # Against the conventional Django server: both answer every request of every scenario.
    few = ["--requests", "6", "--posts", "3", "--warmup", "2", "--concurrency", "2"]
    bench("versus", [*reuse, *few, "--workers", "1"])
    versus = result(tmp_path, "versus-2000-*.json")["results"]
    assert {(r["scenario"], r["concurrency"]) for r in versus} == {
        (s, c) for s in VERSUS_SCENARIOS for c in (1, 2)
    }
    assert all(
        r[side]["errors"] == 0 and r[side]["requests"] == (3 if r["scenario"] == "POST" else 6)
        for r in versus
        for side in ("civicloop", "baseline")
    )


def test_the_sqlite_seed_loads_a_city_the_api_serves(
    db_kind: str, settings: Settings, tmp_path: Path
) -> None:
    if db_kind != "sqlite":
        pytest.skip("bench.seed_sqlite seeds embedded SQLite (the SQLite leg)")
    path = tmp_path / "bench.db"
    printed = bench("seed_sqlite", ["--issues", "300", "--path", str(path)])
    seeded = json.loads(printed[printed.index("\n{") :])
    assert seeded["issues"] == 300
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        # The R*Tree holds every issue; every reporter follows their report.
        count = "SELECT count(*) FROM "
        assert connection.scalar(text(count + "issue_location_rtree")) == 300
        assert (
            connection.scalar(
                text(
                    count + "issue i JOIN follow f ON f.issue_id = i.id "
                    "AND f.user_id = i.reporter_id"
                )
            )
            == 300
        )
        supported = connection.scalar(
            text("SELECT i.public_id FROM issue i JOIN support s ON s.issue_id = i.id LIMIT 1")
        )
    engine.dispose()
    app = create_app(settings.model_copy(update={"database_url": f"sqlite:///{path}"}))
    with TestClient(app) as client:
        issue = client.get(f"/api/v1/issues/{supported}").raise_for_status().json()
        assert issue["supporter_count"] > 0
        assert issue["photos"][0]["kind"] == "report"
        lon, lat = issue["longitude"], issue["latitude"]
        near = client.get("/api/v1/issues", params={"lat": lat, "lon": lon, "radius": 50})
        assert supported in {i["id"] for i in near.raise_for_status().json()["items"]}
        events = client.get(f"/api/v1/issues/{supported}/events").raise_for_status().json()
        assert {"reported", "photo_added", "supported"} <= {e["action"] for e in events}
        # The statistics read the rollups, rebuilt after the load: every issue is counted.
        counts = client.get("/api/v1/stats/counts/status").raise_for_status().json()
        assert sum(row["count"] for row in counts["counts"]) == 300


def test_the_notification_benchmark_runs(
    postgis_admin: str, bench_database: str, tmp_path: Path
) -> None:
    args = ["--messages", "30", "--samples", "3", "--poll", "0.2"]
    where = ["--postgres-url", postgis_admin, "--database", bench_database]
    bench("notifications", [*args, *where, "--results-dir", str(tmp_path)])
    found = result(tmp_path, "notifications-*.json")
    assert all(t["received"] == t["messages"] == 30 for t in found["throughput"])
    assert all(t["duplicates"] == 0 for t in found["throughput"])


def test_the_photo_and_limit_benchmarks_run(db_kind: str, tmp_path: Path) -> None:
    if db_kind != "sqlite":
        pytest.skip("bench.photos and bench.limits run on embedded SQLite (the SQLite leg)")
    small = ["--uploads", "1", "--concurrency", "2", "--photo-workers", "1", "--megapixels", "0.3"]
    bench("photos", [*small, "--results-dir", str(tmp_path)])
    photos = result(tmp_path, "photos-*.json")
    assert {r["side"] for r in photos["runs"]} == {"in-process", "http"}
    redis = os.environ.get("CIVICLOOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    printed = bench(
        "limits",
        ["--requests", "10", "--rounds", "2", "--clients", "20", "--redis-url", redis],
    )
    assert "redis" in printed
    assert "memory" in printed


def test_the_map_page_benchmark_runs(db_kind: str) -> None:
    if db_kind != "sqlite":
        pytest.skip("bench.pages serves the demo city on embedded SQLite (the SQLite leg)")
    printed = bench("pages", ["--issues", "5"])
    found = json.loads(printed[printed.index("{") :])
    assert found["issues"] == 5
    assert found["fast3g_seconds_to_markers"] > 0
    # Every resource of the first load: the page, its one script, the district outlines.
    assert {"/", "/api/v1/districts?zoom=12"} <= set(found["first_load"])
    assert any(path.endswith("/bundles/map.js") for path in found["first_load"])
    assert found["first_load_bytes"] == sum(found["first_load"].values())
