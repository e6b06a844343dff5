"""`python -m bench.similar --issues N`: "is it already reported?" at scale, on PostGIS.

Seeds (or reuses) a bench database like `bench.run`, then asks for similar open issues near real
report positions with those reports' own (Thai) text, through the HTTP API, against the SQL the
app ran for each of those very requests sent directly with psycopg. The ratio is the cost of
everything that is not the database: HTTP, FastAPI, the ORM, the text scoring in Python, JSON.
bench/README.md explains it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from app.config import Settings
from app.db import Database
from app.main import create_app
from bench.data import DEFAULT_TRAFFY_CSV, load_city
from bench.generate import METRES_PER_DEGREE
from bench.measure import (
    BenchError,
    SqlRecorder,
    Statement,
    api_server,
    compare,
    driver_worker,
    http_worker,
)
from bench.run import (
    DATABASE_PREFIX,
    DEFAULT_ADMIN_URL,
    RESULTS_DIR,
    _disposing,
    _environment,
    _ratio,
    _store_seed,
    _stored_seed,
)
from bench.seed import check_loopback, database_url, log, seed

SIMILAR_PATH = "/api/v1/issues/similar"
# Where someone about to report stands: on the street of a real report (σ 60 m).
SIGMA_M = 60.0


@dataclass(frozen=True)
class SimilarTask:
    query: dict[str, str]
    statements: tuple[Statement, ...]  # what the app executed for it, in order
    items: int


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.similar", description=__doc__)
    parser.add_argument("--issues", type=int, default=100_000, help="issues to seed")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per side")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests first")
    parser.add_argument("--concurrency", type=int, default=4, help="the level besides 1")
    parser.add_argument("--radius", type=float, default=200.0, help="radius_m of each search")
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
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if min(args.issues, args.requests, args.warmup, args.concurrency) < 1:
        parser.error("--issues, --requests, --warmup and --concurrency must be positive")
    if not args.database.startswith(DATABASE_PREFIX):
        parser.error(f"--database must start with {DATABASE_PREFIX!r}: it is dropped first")
    return args


def queries(
    rng: random.Random, args: argparse.Namespace, codes: Sequence[str], count: int
) -> list[dict[str, str]]:
    """Near a real report, with its category (or any, when it has none) and its text."""
    city = load_city(rng, set(codes), args.traffy_csv)
    found = []
    for _ in range(count):
        centre = city.centres[rng.randrange(len(city.centres))]
        lat = centre.lat + rng.gauss(0.0, SIGMA_M) / METRES_PER_DEGREE
        lon = centre.lon + rng.gauss(0.0, SIGMA_M) / (
            METRES_PER_DEGREE * math.cos(math.radians(lat))
        )
        found.append(
            {
                "latitude": f"{lat:.6f}",
                "longitude": f"{lon:.6f}",
                "category": centre.category_code or rng.choice(codes),
                "title": centre.title or "",
                "description": centre.description,
                "radius_m": f"{args.radius:g}",
            }
        )
    return found


def capture(url: str, sent: Sequence[dict[str, str]]) -> list[SimilarTask]:
    """Send each search to the app in-process, recording the statements it executes."""
    settings = Settings(database_url=url, auto_migrate=False, log_level="WARNING", _env_file=None)
    database = Database(url, pool_size=1)
    recorder = SqlRecorder(database)
    app = create_app(settings, database)
    tasks = []

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://capture") as client:
            for query in sent:
                response = await client.get(SIMILAR_PATH, params=query)
                if response.status_code != 200:
                    raise BenchError(f"{query} answered {response.status_code}")
                items = len(response.json()["items"])
                statements = tuple(s for s in recorder.take() if not s.ends_transaction)
                tasks.append(SimilarTask(query, statements, items))

    try:
        asyncio.run(run())
    finally:
        database.dispose()
    return tasks


def api_similar(client: httpx.Client, task: SimilarTask) -> None:
    response = client.get(SIMILAR_PATH, params=task.query)
    if response.status_code != 200:
        raise BenchError(f"GET {task.query} answered {response.status_code}")


def direct_similar(connection: psycopg.Connection[Any], task: SimilarTask) -> None:
    """The app's statements for that search, in one transaction, every row fetched."""
    with connection.cursor() as cursor:
        for statement in task.statements:
            cursor.execute(statement.sql, statement.params)
            cursor.fetchall()
    connection.commit()


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

    rng = random.Random(args.seed + 2)
    sent = queries(rng, args, sorted(report.categories), args.requests + args.warmup)
    log(f"capturing the app's SQL for {len(sent):,} similar searches")
    tasks = capture(url, sent)
    timed, warmup = tasks[args.warmup :], tasks[: args.warmup]
    levels = sorted({1, args.concurrency})
    stamp = time.strftime("%Y%m%d-%H%M%S")
    server_log = args.results_dir / f"server-similar-{args.issues}-{stamp}.log"
    database = Database(url, pool_size=max(levels))
    with api_server(url, 1, server_log) as base_url, _disposing(database):
        result = compare(
            f"similar {args.radius:g} m",
            timed,
            warmup,
            levels,
            http_worker(base_url, api_similar),
            driver_worker(database, direct_similar),
        )

    rows: list[dict[str, Any]] = [
        {
            "concurrency": api.concurrency,
            "api": dataclasses.asdict(api),
            "direct": dataclasses.asdict(direct),
            "ratio_api_over_direct": {
                "p50": _ratio(api.p50_ms, direct.p50_ms),
                "p99": _ratio(api.p99_ms, direct.p99_ms),
                "mean": _ratio(api.mean_ms, direct.mean_ms),
            },
        }
        for api, direct in zip(result.api, result.direct, strict=True)
    ]
    items = [t.items for t in tasks]
    statements = sorted({len(t.statements) for t in tasks})
    results = {
        "issues": args.issues,
        "environment": _environment(
            url,
            argparse.Namespace(
                workers=1,
                requests=args.requests,
                creates=0,
                warmup=args.warmup,
                seed=args.seed,
                concurrency=args.concurrency,
            ),
        ),
        "radius_m": args.radius,
        "statements_per_search": statements,
        "items_per_search": {
            "mean": round(sum(items) / len(items), 2),
            "empty": sum(1 for n in items if n == 0),
        },
        "runs": rows,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"similar-{args.issues}-{stamp}.json"
    out.write_text(json.dumps(results, indent=2))

    print(f"\nsimilar search ({args.radius:g} m) on {args.issues:,} issues, {len(timed)} requests")
    print(f"statements per search: {statements}; items per search {results['items_per_search']}")
    for row in rows:
        api, direct, ratio = row["api"], row["direct"], row["ratio_api_over_direct"]
        print(
            f"c={row['concurrency']:<2} api p50 {api['p50_ms']:7.2f} p99 {api['p99_ms']:7.2f} ms"
            f" | direct p50 {direct['p50_ms']:7.2f} p99 {direct['p99_ms']:7.2f} ms"
            f" | ratio mean {ratio['mean']}"
        )
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
