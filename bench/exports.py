"""`python -m bench.exports --issues N`: open-data exports and statistics at scale, on PostGIS.

Seeds (or reuses) a bench database like `bench.run`, starts `civicloop serve`, then measures in
one run: each export format streamed through the HTTP API (rows/s, MB/s) against PostgreSQL's own
`COPY (the same SELECT) TO STDOUT WITH (FORMAT csv)` sent directly with psycopg, and the latency
of every statistics endpoint with the server's cache off (each request computed afresh).
bench/README.md explains it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg

from app.db import Database
from app.models.base import utcnow
from app.services import opendata
from app.services.issues import IssueFilter
from app.services.opendata import ExportFormat
from bench.data import DEFAULT_TRAFFY_CSV
from bench.measure import api_server
from bench.run import (
    DATABASE_PREFIX,
    DEFAULT_ADMIN_URL,
    RESULTS_DIR,
    _environment,
    _store_seed,
    _stored_seed,
)
from bench.seed import check_loopback, database_url, log, seed

CSV_TARGET_RATIO = 3.0
STATS_TARGET_MS = 500.0
STATS_PATHS = (
    "/api/v1/stats/counts/status",
    "/api/v1/stats/counts/category",
    "/api/v1/stats/counts/agency",
    "/api/v1/stats/counts/district",
    "/api/v1/stats/series/reported?period=day",
    "/api/v1/stats/series/reported?period=week",
    "/api/v1/stats/series/reported?period=month",
    "/api/v1/stats/series/resolved?period=day",
    "/api/v1/stats/patterns",
    "/api/v1/stats/timings/acknowledge",
    "/api/v1/stats/timings/resolve",
)
LICENCE = "CC-BY-4.0"


@dataclass
class Transfer:
    name: str
    seconds: float
    bytes: int
    rows: int

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "rows_per_s": round(self.rows_per_s),
            "mb_per_s": round(self.bytes / self.seconds / 1e6, 1),
        }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.exports", description=__doc__)
    parser.add_argument("--issues", type=int, default=100_000, help="issues to seed")
    parser.add_argument("--runs", type=int, default=2, help="timed runs per export (best kept)")
    parser.add_argument("--stats-runs", type=int, default=5, help="requests per statistic")
    parser.add_argument("--seed", type=int, default=20230512, help="random seed")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CIVICLOOP_BENCH_POSTGRES_URL")
        or os.environ.get("CIVICLOOP_TEST_POSTGRES_URL")
        or DEFAULT_ADMIN_URL,
    )
    parser.add_argument("--database", default=DATABASE_PREFIX, help="dropped and recreated")
    parser.add_argument("--traffy-csv", type=Path, default=DEFAULT_TRAFFY_CSV)
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded alike")
    parser.add_argument("--skip-exports", action="store_true", help="measure statistics only")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if min(args.issues, args.runs, args.stats_runs) < 1:
        parser.error("--issues, --runs and --stats-runs must be positive")
    if not args.database.startswith(DATABASE_PREFIX):
        parser.error(f"--database must start with {DATABASE_PREFIX!r}: it is dropped first")
    return args


def _timed(name: str, chunks: Iterator[bytes], rows: int) -> Transfer:
    size = 0
    started = time.perf_counter()
    for chunk in chunks:
        size += len(chunk)
    return Transfer(name, time.perf_counter() - started, size, rows)


def direct_copy(url: str, rows: int) -> Transfer:
    """The app's own export SELECT, COPY'd to STDOUT straight from PostgreSQL."""
    database = Database(url, pool_size=1)
    try:
        with database.session(write=False) as session:
            query = opendata.export_query(
                session,
                spatial=database.spatial,
                issue_filter=IssueFilter(),
                now=utcnow(),
                licence=LICENCE,
                fmt=opendata.ExportFormat.csv,
            )
            statement, params = opendata.copy_statement(session, query)
    finally:
        database.dispose()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:

        def chunks() -> Iterator[bytes]:
            with cursor.copy(statement, params) as copy:
                for data in copy:
                    yield bytes(data)

        return _timed("COPY csv (direct)", chunks(), rows)


def api_export(base_url: str, fmt: ExportFormat, rows: int) -> Transfer:
    with (
        httpx.Client(base_url=base_url, timeout=600, trust_env=False) as client,
        client.stream("GET", f"/api/v1/exports/issues.{fmt.value}") as response,
    ):
        response.raise_for_status()
        return _timed(f"API {fmt.value}", response.iter_raw(1 << 20), rows)


def stats_latencies(base_url: str, runs: int) -> list[dict[str, Any]]:
    results = []
    with httpx.Client(base_url=base_url, timeout=120, trust_env=False) as client:
        for path in STATS_PATHS:
            times = []
            for _ in range(runs + 1):  # the first one warms caches up and is not counted
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            timed = times[1:]
            results.append(
                {
                    "path": path,
                    "median_ms": round(statistics.median(timed), 1),
                    "max_ms": round(max(timed), 1),
                    "first_ms": round(times[0], 1),
                    "met": max(timed) < STATS_TARGET_MS,
                }
            )
    return results


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
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT count(*) FROM issue").fetchone()
        rows = int(row[0]) if row else 0

    stamp = time.strftime("%Y%m%d-%H%M%S")
    server_log = args.results_dir / f"server-exports-{args.issues}-{stamp}.log"
    # Every statistics request computed afresh: the cache would only measure a dict look-up.
    os.environ["CIVICLOOP_STATS_CACHE_SECONDS"] = "0"
    transfers: dict[str, Transfer] = {}
    with api_server(url, 1, server_log) as base_url:
        measures: list[tuple[str, Callable[[], Transfer]]] = [
            ("COPY csv (direct)", partial(direct_copy, url, rows)),
            *[(f"API {f.value}", partial(api_export, base_url, f, rows)) for f in ExportFormat],
        ]
        for _ in range(0 if args.skip_exports else args.runs):
            for name, measure in measures:
                log(f"export: {name}")
                result = measure()
                if name not in transfers or result.seconds < transfers[name].seconds:
                    transfers[name] = result
        log("statistics endpoints (cache off)")
        stats = stats_latencies(base_url, args.stats_runs)

    targets = []
    ratio = None
    if transfers:
        copy, api_csv = transfers["COPY csv (direct)"], transfers["API csv"]
        ratio = round(api_csv.seconds / copy.seconds, 2)
        targets.append(
            {
                "target": f"API CSV within {CSV_TARGET_RATIO:g}x of COPY",
                "value": ratio,
                "met": ratio <= CSV_TARGET_RATIO,
            }
        )
    targets.append(
        {
            "target": f"every statistics request under {STATS_TARGET_MS:g} ms",
            "value": max(s["max_ms"] for s in stats),
            "met": all(s["met"] for s in stats),
        }
    )
    results = {
        "issues": rows,
        "environment": _environment(
            url,
            argparse.Namespace(
                workers=1, requests=0, creates=0, warmup=0, seed=args.seed, concurrency=1
            ),
        ),
        "exports": [t.as_dict() for t in transfers.values()],
        "csv_ratio_api_over_copy": ratio,
        "statistics": stats,
        "targets": targets,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"exports-{args.issues}-{stamp}.json"
    out.write_text(json.dumps(results, indent=2))

    print(f"\nexports of {rows:,} issues (best of {args.runs})")
    print(f"{'what':<20}{'seconds':>9}{'rows/s':>11}{'MB':>8}{'MB/s':>7}")
    for t in transfers.values():
        d = t.as_dict()
        print(
            f"{t.name:<20}{t.seconds:>9.2f}{d['rows_per_s']:>11,}{t.bytes / 1e6:>8.0f}"
            f"{d['mb_per_s']:>7}"
        )
    print(f"API csv / COPY = {ratio}")
    print(f"\nstatistics, cache off ({args.stats_runs} requests each after one warm-up)")
    for s in stats:
        print(f"{s['path']:<40}{s['median_ms']:>9.1f} ms median{s['max_ms']:>9.1f} ms max")
    for target in targets:
        verdict = "met" if target["met"] else "MISSED"
        print(f"target: {target['target']}: {target['value']} -> {verdict}")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
