"""`python -m bench.maps --issues N`: map tiles and hexagon counts, through the API and direct.

Seeds (or, with --reuse, keeps) a PostGIS bench database, recounts the map cells when the
seeder's COPY left them behind (`maps.rebuild_cell_counts`, timed), starts `civicloop serve` with
the answer cache off, and times each scenario:
- API: the HTTP request to `civicloop serve`;
- direct: the same service call in-process (its SQL, and the H3/MVT work around it), no HTTP;
- points: for the city views, the same hexagons counted from the issues' points, as without
  the per-cell counts (the path any filter the counts do not keep takes).
bench/README.md ("Maps") records the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from app.db import Database
from app.models import Issue
from app.services import maps
from app.services.issues import IssueFilter
from app.spatial import BBox
from app.spatial.tiles import Tile
from bench.data import DEFAULT_TRAFFY_CSV
from bench.measure import api_server, percentile
from bench.run import DATABASE_PREFIX, DEFAULT_ADMIN_URL, RESULTS_DIR, _store_seed, _stored_seed
from bench.seed import check_loopback, database_url, log, seed

CITY_TARGET_MS = 100.0
# Bangkok at city zoom, and its busiest streets.
CITY_BBOX = BBox(100.33, 13.49, 100.94, 13.96)


def _tile_at(lon: float, lat: float, z: int) -> Tile:
    x, y = Tile(z, 0, 0).pixel(lon, lat)
    return Tile(z, int(x // 4096), int(y // 4096))


def _milliseconds(run: Callable[[], Any], times: int) -> list[float]:
    run()  # warm-up, not counted
    taken = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        taken.append((time.perf_counter() - started) * 1000)
    return sorted(taken)


def _summary(taken: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(taken, 50), 2), "p99_ms": round(percentile(taken, 99), 2)}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.maps", description=__doc__)
    parser.add_argument("--issues", type=int, default=100_000, help="issues to seed")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per scenario")
    parser.add_argument("--seed", type=int, default=20230512, help="random seed")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CIVICLOOP_BENCH_POSTGRES_URL")
        or os.environ.get("CIVICLOOP_TEST_POSTGRES_URL")
        or DEFAULT_ADMIN_URL,
    )
    parser.add_argument("--database", default=f"{DATABASE_PREFIX}_maps", help="dropped first")
    parser.add_argument("--traffy-csv", type=Path, default=DEFAULT_TRAFFY_CSV)
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded alike")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if min(args.issues, args.requests) < 1:
        parser.error("--issues and --requests must be positive")
    if not args.database.startswith(DATABASE_PREFIX):
        parser.error(f"--database must start with {DATABASE_PREFIX!r}: it is dropped first")
    return args


def ensure_cell_counts(database: Database) -> float | None:
    """Recount the map cells when some issue has none (a COPY); the seconds it took."""
    with database.session(write=True) as session:
        if session.scalar(select(func.count()).where(Issue.h3_cell.is_(None))) == 0:
            return None
        log("issues without a map cell: rebuilding the cell counts")
        started = time.perf_counter()
        maps.rebuild_cell_counts(session)
        session.commit()
        return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    check_loopback(args.postgres_url)
    url = database_url(args.postgres_url, args.database)
    report = _stored_seed(args.postgres_url, args.database) if args.reuse else None
    if report is not None and report.issues == args.issues:
        log(f"reusing {args.database}: {report.issues:,} issues seeded earlier")
    else:
        report = seed(args.postgres_url, args.database, args.issues, args.seed, args.traffy_csv)
        _store_seed(url, args.database, report)
    database = Database(url)
    rebuild_s = ensure_cell_counts(database)
    with database.session(write=False) as session:
        issues = session.scalar(select(func.count()).select_from(Issue)) or 0
        lon, lat = database.spatial.lon_lat()
        sample = session.execute(select(lon, lat).order_by(Issue.id).limit(2000)).all()
    rng = random.Random(args.seed)
    spots = [sample[rng.randrange(len(sample))] for _ in range(args.requests + 1)]
    city_tiles = [_tile_at(x, y, 11) for x, y in spots]
    street_tiles = [_tile_at(x, y, 16) for x, y in spots]
    plain = IssueFilter()
    # Every issue, by a period the counts do not keep (cut within a day): read from the points.
    everything_from_points = IssueFilter(
        created_after=dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.UTC)
    )
    spatial = database.spatial

    def direct_tile(tiles: list[Tile]) -> Callable[[], None]:
        todo = iter(tiles * 2)

        def run() -> None:
            with database.session(write=False) as session:
                maps.tile(session, spatial=spatial, issue_filter=plain, tile=next(todo))

        return run

    def city_cells(from_points: bool) -> Callable[[], None]:
        cells = maps.cells_in(CITY_BBOX, maps.resolution_for_zoom(11))

        def run() -> None:
            with database.session(write=False) as session:
                maps.count_cells(
                    session,
                    spatial=spatial,
                    issue_filter=everything_from_points if from_points else plain,
                    cells=cells,
                )

        return run

    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    server_log = args.results_dir / f"server-maps-{args.issues}-{stamp}.log"
    os.environ["CIVICLOOP_STATS_CACHE_SECONDS"] = "0"  # every answer computed afresh
    bbox = f"{CITY_BBOX.west},{CITY_BBOX.south},{CITY_BBOX.east},{CITY_BBOX.north}"
    rows: list[dict[str, Any]] = []
    with (
        api_server(url, 1, server_log) as base_url,
        httpx.Client(base_url=f"{base_url}/api/v1", timeout=120, trust_env=False) as client,
    ):

        def api_tiles(tiles: list[Tile]) -> Callable[[], None]:
            todo = iter(tiles * 2)

            def run() -> None:
                t = next(todo)
                client.get(f"/tiles/{t.z}/{t.x}/{t.y}.mvt").raise_for_status()

            return run

        def api_hexagons() -> None:
            client.get("/hexagons", params={"bbox": bbox, "zoom": 11}).raise_for_status()

        for name, api, direct, points in (
            ("tile z11 (city, hexagons)", api_tiles(city_tiles), direct_tile(city_tiles), None),
            ("tile z16 (street, points)", api_tiles(street_tiles), direct_tile(street_tiles), None),
            ("hexagons Bangkok zoom 11", api_hexagons, city_cells(False), city_cells(True)),
        ):
            log(name)
            row: dict[str, Any] = {
                "scenario": name,
                "api": _summary(api_ms := _milliseconds(api, args.requests)),
                "direct": _summary(direct_ms := _milliseconds(direct, args.requests)),
            }
            row["api_over_direct"] = round(percentile(direct_ms, 50) / percentile(api_ms, 50), 2)
            if points is not None:
                points_ms = _milliseconds(points, max(3, args.requests // 5))
                row["points"] = _summary(points_ms)
                row["points_over_counts"] = round(
                    percentile(points_ms, 50) / percentile(direct_ms, 50), 1
                )
            rows.append(row)
    database.dispose()

    city = rows[0]["api"]["p99_ms"]
    results = {
        "issues": issues,
        "cell_count_rebuild_s": None if rebuild_s is None else round(rebuild_s, 1),
        "scenarios": rows,
        "target": {"what": f"city tile p99 <= {CITY_TARGET_MS:g} ms", "p99_ms": city},
    }
    out = args.results_dir / f"maps-{args.issues}-{stamp}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nmaps of {issues:,} issues; cache off")
    if rebuild_s is not None:
        print(f"cell counts rebuilt in {rebuild_s:.1f} s")
    print(f"{'scenario':<30}{'API p50':>9}{'API p99':>9}{'direct p50':>12}{'direct/API':>11}")
    for r in rows:
        print(
            f"{r['scenario']:<30}{r['api']['p50_ms']:>9.1f}{r['api']['p99_ms']:>9.1f}"
            f"{r['direct']['p50_ms']:>12.1f}{r['api_over_direct']:>10.2f}x"
        )
        if "points" in r:
            print(
                f"{'  same from points':<30}{'':>18}{r['points']['p50_ms']:>12.1f}"
                f"  ({r['points_over_counts']}x the counts)"
            )
    verdict = "met" if city <= CITY_TARGET_MS else "MISSED"
    print(f"target: city tile p99 <= {CITY_TARGET_MS:g} ms: {city:.1f} ms -> {verdict}")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
