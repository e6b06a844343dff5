"""`python -m bench.small`: what the HTTP stack around a route costs, on requests whose database
work is one indexed read or none, and how the server's settings change it.

Small answers are where the layers between the socket and the route show: the Open311 service
list (the category catalogue), one issue by its public id, and one Open311 request. Each is sent
`--requests` times at concurrency 1 and `--concurrency` through `civicloop serve`, on the bench's
PostGIS city (seeded as `bench.run` seeds it, reused with `--reuse`), once per server
configuration asked for with `--variant` (worker count, HTTP parser, event loop). Figures are
printed and written to `bench/results/small-*.json`; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.data import DEFAULT_TRAFFY_CSV
from bench.measure import BenchError, Summary, http_worker, run_load, server_process
from bench.run import DATABASE_PREFIX, DEFAULT_ADMIN_URL, RESULTS_DIR, _store_seed, _stored_seed
from bench.seed import check_loopback, database_url, log, seed

DEFAULT_DATABASE = f"{DATABASE_PREFIX}_small"


@dataclass(frozen=True)
class Variant:
    """One way to run the server: `workers` processes, and the settings that pick the rest."""

    name: str
    workers: int
    env: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> Variant:
        """`w2`, `w1:http=h11,loop=asyncio`: workers, then CIVICLOOP_SERVER_* settings."""
        head, _, rest = text.partition(":")
        if not head.startswith("w") or not head[1:].isdigit():
            raise argparse.ArgumentTypeError(f"{text!r}: start with w<workers>, e.g. w2")
        env = {}
        for pair in filter(None, rest.split(",")):
            key, _, value = pair.partition("=")
            env[f"CIVICLOOP_SERVER_{key.upper()}"] = value
        return cls(text, int(head[1:]), env)


def _paths(url: str, rng: random.Random, count: int) -> dict[str, list[str]]:
    with psycopg.connect(url) as connection:
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT public_id FROM issue ORDER BY random() LIMIT %s", [count]
            )
        ]
    if not ids:
        raise BenchError("the bench database holds no issue")
    picks = [rng.choice(ids) for _ in range(count)]
    return {
        "service list": ["/open311/v2/services.json"] * count,
        "one issue": [f"/api/v1/issues/{public_id}" for public_id in picks],
        "one Open311 request": [f"/open311/v2/requests/{public_id}.json" for public_id in picks],
    }


def _get(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise BenchError(f"GET {path} answered {response.status_code}: {response.text[:200]}")


def _measure(
    base_url: str, paths: Sequence[str], warmup: int, levels: Sequence[int]
) -> list[Summary]:
    worker = http_worker(base_url, _get)
    return [run_load(paths[warmup:], paths[:warmup], level, worker) for level in levels]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.small", description=__doc__)
    parser.add_argument("--issues", type=int, default=100_000, help="issues to seed")
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per run")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests per run")
    parser.add_argument("--concurrency", type=int, default=4, help="the second client count")
    parser.add_argument(
        "--variant",
        type=Variant.parse,
        action="append",
        help="server configuration, e.g. w1, w2, w1:http=h11,loop=asyncio (default: w1)",
    )
    parser.add_argument("--postgres-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="dropped and recreated")
    parser.add_argument("--reuse", action="store_true", help="keep an equally seeded database")
    parser.add_argument("--seed", type=int, default=20230512, help="random seed")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if not args.database.startswith(DATABASE_PREFIX):
        parser.error(f"--database must start with {DATABASE_PREFIX!r}: it is dropped first")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    check_loopback(args.postgres_url)
    url = database_url(args.postgres_url, args.database)
    stored = _stored_seed(args.postgres_url, args.database) if args.reuse else None
    if stored is None or stored.issues != args.issues:
        stored = seed(args.postgres_url, args.database, args.issues, args.seed, DEFAULT_TRAFFY_CSV)
        _store_seed(url, args.database, stored)
    scenarios = _paths(url, random.Random(args.seed), args.requests + args.warmup)
    levels = sorted({1, args.concurrency})
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rows: list[dict[str, Any]] = []
    for variant in args.variant or [Variant.parse("w1")]:
        server_log = args.results_dir / f"small-server-{variant.name}-{stamp}.log"
        log(f"serving as {variant.name}; log in {server_log}")
        with server_process(url, variant.workers, server_log, variant.env) as (base_url, _):
            for scenario, paths in scenarios.items():
                for summary in _measure(base_url, paths, args.warmup, levels):
                    rows.append({"variant": variant.name, "scenario": scenario, **asdict(summary)})
    _print(rows, f"{stored.issues:,} issues on PostGIS")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"small-{args.issues}-{stamp}.json"
    path.write_text(json.dumps({"issues": stored.issues, "results": rows}, indent=2) + "\n")
    print(f"results: {path}")
    return 0


def _print(rows: list[dict[str, Any]], title: str) -> None:
    columns: list[tuple[str, int, Callable[[dict[str, Any]], str]]] = [
        ("variant", 28, lambda r: r["variant"]),
        ("scenario", 20, lambda r: r["scenario"]),
        ("c", 3, lambda r: str(r["concurrency"])),
        ("req/s", 8, lambda r: f"{r['requests_per_s']:.0f}"),
        ("p50 ms", 8, lambda r: f"{r['p50_ms']:.2f}"),
        ("p99 ms", 8, lambda r: f"{r['p99_ms']:.2f}"),
    ]
    print(f"\n{title}")
    print(" ".join(f"{name:>{width}}" for name, width, _ in columns))
    for row in rows:
        print(" ".join(f"{cell(row):>{width}}" for _, width, cell in columns))


if __name__ == "__main__":
    sys.exit(main())
