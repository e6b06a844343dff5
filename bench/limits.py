"""`python -m bench.limits`: what the abuse limits cost. The time of a report (POST
/api/v1/issues) with the limits off, counted in memory and counted in Redis, and the memory one
counted client takes in each store. Figures are printed as ratios to the run without limits;
nothing is asserted.

Requests go in-process through httpx's ASGI transport to one app per variant, on an embedded
SQLite database in a temporary directory, each from its own address and device (as many clients
would), so the stores fill as they would in production. Redis is the one at --redis-url; its keys
live under a prefix of the run's own, removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Sequence
from pathlib import Path

import httpx
import redis
from fastapi import FastAPI

from app.config import Settings
from app.db import Database
from app.dbmigrate import upgrade
from app.http.limits import Action, Limiter
from app.main import create_app
from tests.factories import IN_WEST, make_agency, make_category

UNLIMITED = "1000000000/minute"


def _settings(data_dir: Path, database_url: str, **update: object) -> Settings:
    allowances = {f"rate_limit_{a}{scope}": UNLIMITED for a in Action for scope in ("", "_ip")}
    return Settings(
        environment="test",
        database_url=database_url,
        data_dir=data_dir,
        secret_key="bench-limits-secret-that-is-long-enough-0123456789",
        _env_file=None,
    ).model_copy(update={**allowances, **update})


def _address(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


async def _report(app: FastAPI, n: int) -> float:
    transport = httpx.ASGITransport(app=app, client=(_address(n), 40_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        started = time.perf_counter()
        answer = await client.post(
            "/api/v1/issues",
            headers={"X-Device-Id": f"bench-limits-device-{n:012d}"},
            json={
                "category": "pothole",
                "title": f"Pothole {n}",
                "latitude": IN_WEST[1],
                "longitude": IN_WEST[0],
            },
        )
        elapsed = time.perf_counter() - started
    if answer.status_code != 201:
        raise SystemExit(f"report {n} answered {answer.status_code}: {answer.text}")
    return elapsed


async def _timings(apps: dict[str, FastAPI], requests: int, rounds: int) -> dict[str, list[float]]:
    """Each variant in turn, a slice at a time, so drift on a shared machine hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in apps}
    n = 0
    for app in apps.values():
        n += 1
        await _report(app, n)  # warm up: FastAPI analyses a route on its first call
    per_round = max(requests // rounds, 1)
    for _ in range(rounds):
        for name, app in apps.items():
            for _ in range(per_round):
                n += 1
                times[name].append(await _report(app, n))
    return times


async def _memory_bytes_per_client(clients: int) -> float:
    """Python heap one counted client (its address and its device) adds to the memory store."""
    limiter = Limiter(Settings(environment="development", _env_file=None))
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for n in range(clients):
        await limiter.hit(Action.report, _address(n), f"device:{n:032x}")
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return grown / clients


async def _redis_bytes_per_client(redis_url: str, clients: int) -> float:
    prefix = f"civicloop-bench-{uuid.uuid4().hex}"
    limiter = Limiter(
        Settings(
            environment="development", redis_url=redis_url, rate_limit_prefix=prefix, _env_file=None
        )
    )
    server = redis.Redis.from_url(redis_url)

    def used() -> int:
        info = server.info("memory")
        assert isinstance(info, dict)
        return int(info["used_memory"])

    before = used()
    try:
        for n in range(clients):
            await limiter.hit(Action.report, _address(n), f"device:{n:032x}")
        after = used()
    finally:
        await limiter.storage.reset()
        server.close()
    return (after - before) / clients


def _line(name: str, values: list[float], baseline: float) -> str:
    p50 = statistics.median(values) * 1000
    p90 = statistics.quantiles(values, n=10)[-1] * 1000
    return f"  {name:<8} p50 {p50:7.2f} ms   p90 {p90:7.2f} ms   p50 ratio {p50 / baseline:5.3f}"


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="civicloop-bench-limits-") as tmp:
        data_dir = Path(tmp)
        url = f"sqlite:///{data_dir / 'bench.db'}"
        database = Database(url)
        upgrade(database.engine)
        with database.session(write=True) as session:
            make_agency(session, categories=[make_category(session, "pothole")])
        prefix = f"civicloop-bench-{uuid.uuid4().hex}"
        apps = {
            "off": create_app(_settings(data_dir, url, rate_limits_enabled=False), database),
            "memory": create_app(_settings(data_dir, url, rate_limits_enabled=True), database),
            "redis": create_app(
                _settings(
                    data_dir,
                    url,
                    rate_limits_enabled=True,
                    redis_url=args.redis_url,
                    rate_limit_prefix=prefix,
                ),
                database,
            ),
        }
        try:
            times = await _timings(apps, args.requests, args.rounds)
        finally:
            await apps["redis"].state.limiter.storage.reset()
            for app in apps.values():
                app.state.photo_workers.shutdown(wait=True)
            database.dispose()
    baseline = statistics.median(times["off"]) * 1000
    print(f"POST /api/v1/issues, {len(times['off'])} reports per variant, SQLite, in-process:")
    for name, values in times.items():
        print(_line(name, values, baseline))
    memory = await _memory_bytes_per_client(args.clients)
    in_redis = await _redis_bytes_per_client(args.redis_url, args.clients)
    print(f"store size per counted client ({args.clients} clients, one report each):")
    print(f"  memory   {memory:7.0f} bytes of Python heap")
    print(f"  redis    {in_redis:7.0f} bytes of Redis used_memory")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.limits", description=__doc__)
    parser.add_argument("--requests", type=int, default=600, help="reports per variant")
    parser.add_argument("--rounds", type=int, default=6, help="slices the variants alternate in")
    parser.add_argument("--clients", type=int, default=10_000, help="clients the stores count")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    asyncio.run(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
