"""`python -m bench.versus`: civicloop's GeoReport v2 against a conventional Django one.

The baseline (`bench/baseline/`) is a minimal Django + DRF + GeoDjango server over the same
tables, served by gunicorn with `--workers` sync workers; civicloop runs `civicloop serve` in its
production configuration with as many workers. Both serve the bench's PostGIS city (seeded as
`bench.run` seeds it, or reused with `--reuse`) and receive the same requests, at concurrency 1
and `--concurrency`: the service list, the newest page of 100 requests, a map viewport (bbox), a
500 m radius, one request by id, and a POST (form-encoded, with an API key). Before timing, a
sample of each read is sent to both and their answers compared (the same requests in the same
order), so the two sides are shown to do the same work. Figures are printed and written to
`bench/results/versus-*.json`; nothing is asserted. bench/README.md says what was measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.data import DEFAULT_TRAFFY_CSV, load_city
from bench.measure import (
    BENCH_ALLOWANCES,
    REPO,
    BenchError,
    Comparison,
    bbox_queries,
    compare,
    free_port,
    http_worker,
    radius_queries,
    server_process,
)
from bench.run import DATABASE_PREFIX, DEFAULT_ADMIN_URL, RESULTS_DIR, _store_seed, _stored_seed
from bench.seed import check_loopback, database_url, log, seed

DEFAULT_DATABASE = f"{DATABASE_PREFIX}_versus"
OPEN311 = "/open311/v2"
PAGE = "100"
# The goals of issue 12: requests per second against the baseline, and p99 against p50.
THROUGHPUT_TARGET = 5.0
TAIL_TARGET = 3.0
MAX_DESCRIPTION = 4000


@dataclass(frozen=True)
class Call:
    """One request, sent alike to either server."""

    method: str
    path: str
    params: dict[str, str] | None = None
    form: dict[str, str] | None = None

    def send(self, client: httpx.Client) -> httpx.Response:
        return client.request(self.method, self.path, params=self.params, data=self.form)


def _send(client: httpx.Client, call: Call) -> None:
    response = call.send(client)
    expected = 201 if call.method == "POST" else 200
    if response.status_code != expected:
        raise BenchError(
            f"{call.method} {call.path} {call.params or ''} answered {response.status_code}, "
            f"not {expected}: {response.text[:200]}"
        )


def _api_key(url: str) -> str:
    """A live API key of a seeded citizen, the Open311 client both servers accept."""
    secret = f"versus-{secrets.token_hex(16)}"
    with psycopg.connect(url) as connection:
        connection.execute(
            "INSERT INTO api_key (user_id, name, prefix, secret_hash, created_at, updated_at) "
            "SELECT id, 'bench.versus', %s, %s, now(), now() FROM user_account "
            "WHERE role = 'citizen' AND is_active ORDER BY id LIMIT 1",
            [secret[:12], hashlib.sha256(secret.encode()).hexdigest()],
        )
    return secret


def _public_ids(url: str, count: int, seed_value: int) -> list[str]:
    with psycopg.connect(url) as connection:
        connection.execute("SELECT setseed(%s)", [(seed_value % 1000) / 1000])
        rows = connection.execute(
            "SELECT public_id FROM issue WHERE hidden_at IS NULL AND NOT is_private "
            "AND (review IS NULL OR review = 'approved') ORDER BY random() LIMIT %s",
            [count],
        ).fetchall()
    if not rows:
        raise BenchError("the bench database holds no public issue")
    return [rows[i % len(rows)][0] for i in range(count)]


def scenarios(url: str, args: argparse.Namespace, codes: Sequence[str]) -> dict[str, list[Call]]:
    """The same calls for both servers, scenario by scenario (the POST last: it adds issues)."""
    rng = random.Random(args.seed)
    city = load_city(rng, set(codes), DEFAULT_TRAFFY_CSV)
    total = args.requests + args.warmup
    radius = [
        Call(
            "GET",
            f"{OPEN311}/requests.json",
            {"lat": q["lat"], "long": q["lon"], "radius": q["radius"], "page_size": PAGE},
        )
        for q in radius_queries(rng, city, total)
    ]
    bbox = [
        Call("GET", f"{OPEN311}/requests.json", {**q, "page_size": PAGE})
        for q in bbox_queries(rng, city, total)
    ]
    key = _api_key(url)
    posts = []
    for lon_lat in radius_queries(rng, city, args.posts + args.warmup):
        centre = rng.choice(city.centres)
        code = centre.category_code if centre.category_code in codes else rng.choice(codes)
        form = {
            "api_key": key,
            "service_code": str(code),
            "lat": lon_lat["lat"],
            "long": lon_lat["lon"],
            "description": centre.description[:MAX_DESCRIPTION],
        }
        if centre.address:
            form["address_string"] = centre.address[:500]
        posts.append(Call("POST", f"{OPEN311}/requests.json", form=form))
    return {
        "service list": [Call("GET", f"{OPEN311}/services.json")] * total,
        "requests page": [Call("GET", f"{OPEN311}/requests.json", {"page_size": PAGE})] * total,
        "bbox": bbox,
        "radius 500 m": radius,
        "single request": [
            Call("GET", f"{OPEN311}/requests/{public_id}.json")
            for public_id in _public_ids(url, total, args.seed)
        ],
        "POST": posts,
    }


def _identity(answer: Any) -> list[str]:
    return [item.get("service_request_id") or item.get("service_code") for item in answer]


def check_same_answers(civicloop: str, baseline: str, calls: dict[str, list[Call]]) -> None:
    """A sample of each read, sent to both: the same requests (or services), in the same order."""
    with (
        httpx.Client(base_url=civicloop, timeout=60.0, trust_env=False) as ours,
        httpx.Client(base_url=baseline, timeout=60.0, trust_env=False) as theirs,
    ):
        for scenario, sample in calls.items():
            distinct = {repr(c): c for c in sample[:10] if c.method == "GET"}
            for call in distinct.values():
                a, b = call.send(ours), call.send(theirs)
                if a.status_code != 200 or b.status_code != 200:
                    raise BenchError(f"{scenario}: {a.status_code} / {b.status_code} for {call}")
                if _identity(a.json()) != _identity(b.json()):
                    ours_ids, theirs_ids = _identity(a.json())[:10], _identity(b.json())[:10]
                    raise BenchError(
                        f"{scenario}: the servers answered {call} differently:\n"
                        f"civicloop {ours_ids}\nbaseline  {theirs_ids}"
                    )


@contextmanager
def gunicorn(url: str, workers: int, log_path: Path) -> Iterator[str]:
    """The Django baseline under gunicorn (sync workers) on a free loopback port."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "bench.baseline.wsgi:application",
        "--workers", str(workers), "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    environment = {**os.environ, "BASELINE_DATABASE_URL": url}
    base_url = f"http://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            command, env=environment, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        with httpx.Client(base_url=base_url, timeout=5.0, trust_env=False) as client:
            for _ in range(300):
                if process.poll() is not None:
                    raise BenchError(f"gunicorn exited ({process.returncode}); see {log_path}")
                try:
                    if client.get(f"{OPEN311}/services.json").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            else:
                raise BenchError(f"gunicorn did not become ready in 60 s; see {log_path}")
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def production_env() -> dict[str, str]:
    """`civicloop serve` as deployed: production checks on, its own secret, bench allowances."""
    return {
        **BENCH_ALLOWANCES,
        "CIVICLOOP_ENVIRONMENT": "production",
        "CIVICLOOP_SECRET_KEY": secrets.token_hex(32),
        "CIVICLOOP_PUBLIC_BASE_URL": "http://127.0.0.1",
    }


def _row(comparison: Comparison, level: int) -> dict[str, Any]:
    ours, theirs = comparison.api[level], comparison.direct[level]
    ratio = ours.requests_per_s / theirs.requests_per_s if theirs.requests_per_s else float("nan")
    return {
        "scenario": comparison.scenario,
        "concurrency": ours.concurrency,
        "civicloop": dataclasses.asdict(ours),
        "baseline": dataclasses.asdict(theirs),
        "throughput_ratio": round(ratio, 2),
        "civicloop_p99_over_p50": round(ours.p99_ms / ours.p50_ms, 2),
        "baseline_p99_over_p50": round(theirs.p99_ms / theirs.p50_ms, 2),
    }


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.versus", description=__doc__)
    parser.add_argument("--issues", type=int, default=100_000, help="issues to seed")
    parser.add_argument("--requests", type=int, default=1000, help="timed reads per run")
    parser.add_argument("--posts", type=int, default=500, help="timed POSTs per run")
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests per run")
    parser.add_argument("--concurrency", type=int, default=4, help="the second client count")
    parser.add_argument("--workers", type=int, default=2, help="processes of each server")
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
    else:
        log(f"reusing {args.database}: {stored.issues:,} issues seeded earlier")
    calls = scenarios(url, args, sorted(stored.categories))
    levels = sorted({1, args.concurrency})
    stamp = time.strftime("%Y%m%d-%H%M%S")
    ours_log = args.results_dir / f"versus-civicloop-{stamp}.log"
    theirs_log = args.results_dir / f"versus-baseline-{stamp}.log"
    log(f"serving civicloop and the Django baseline, {args.workers} workers each")
    with (
        server_process(url, args.workers, ours_log, production_env()) as (ours, _),
        gunicorn(url, args.workers, theirs_log) as theirs,
    ):
        check_same_answers(ours, theirs, calls)
        comparisons = [
            compare(
                scenario,
                tasks[args.warmup :],
                tasks[: args.warmup],
                levels,
                http_worker(ours, _send),
                http_worker(theirs, _send),
                names=("civicloop", "django"),
            )
            for scenario, tasks in calls.items()
        ]
    rows = [_row(c, n) for c in comparisons for n in range(len(levels))]
    _print(rows, f"{stored.issues:,} issues on PostGIS, {args.workers} workers each")
    result = {
        "issues": stored.issues,
        "workers": args.workers,
        "baseline": "Django + DRF + GeoDjango (bench/baseline), gunicorn sync workers",
        "targets": {
            "throughput_ratio_at_least": THROUGHPUT_TARGET,
            "p99_over_p50_at_most": TAIL_TARGET,
        },
        "results": rows,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"versus-{args.issues}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {path}")
    return 0


def _print(rows: list[dict[str, Any]], title: str) -> None:
    columns: list[tuple[str, int, Callable[[dict[str, Any]], str]]] = [
        ("scenario", 16, lambda r: r["scenario"]),
        ("c", 3, lambda r: str(r["concurrency"])),
        ("ours req/s", 11, lambda r: f"{r['civicloop']['requests_per_s']:.0f}"),
        ("p50", 7, lambda r: f"{r['civicloop']['p50_ms']:.1f}"),
        ("p99", 7, lambda r: f"{r['civicloop']['p99_ms']:.1f}"),
        ("django req/s", 13, lambda r: f"{r['baseline']['requests_per_s']:.0f}"),
        ("p50", 7, lambda r: f"{r['baseline']['p50_ms']:.1f}"),
        ("p99", 7, lambda r: f"{r['baseline']['p99_ms']:.1f}"),
        ("ratio", 6, lambda r: f"{r['throughput_ratio']:.2f}"),
        ("tail", 6, lambda r: f"{r['civicloop_p99_over_p50']:.1f}"),
    ]
    print(f"\n{title}")
    print(" ".join(f"{name:>{width}}" for name, width, _ in columns))
    for row in rows:
        print(" ".join(f"{cell(row):>{width}}" for _, width, cell in columns))
    print(
        f"ratio = civicloop req/s / Django req/s (goal >= {THROUGHPUT_TARGET:g}); "
        f"tail = civicloop p99 / p50 (goal <= {TAIL_TARGET:g}); latencies in ms"
    )


if __name__ == "__main__":
    sys.exit(main())
