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
from dataclasses import dataclass
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


@dataclass
class StoreCost:
    first_us: float  # mean time of one check over the first thousand clients
    last_us: float  # ... over the last thousand, with every other client's counters stored
    bytes_per_client: float


async def _count_clients(limiter: Limiter, clients: int) -> list[float]:
    times = []
    for n in range(clients):
        started = time.perf_counter()
        await limiter.hit(Action.report, _address(n), f"device:{n:032x}")
        times.append(time.perf_counter() - started)
    return times


def _cost(times: list[float], bytes_per_client: float) -> StoreCost:
    edge = min(1000, len(times))
    return StoreCost(
        first_us=statistics.fmean(times[:edge]) * 1e6,
        last_us=statistics.fmean(times[-edge:]) * 1e6,
        bytes_per_client=bytes_per_client,
    )


async def _memory_cost(clients: int) -> StoreCost:
    """Checks timed on one store; the heap one client (its address and its device) adds measured
    on another, since tracing allocations slows every check."""
    times = await _count_clients(Limiter(_store_settings()), clients)
    limiter = Limiter(_store_settings())
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await _count_clients(limiter, clients)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return _cost(times, grown / clients)


async def _redis_cost(redis_url: str, clients: int) -> StoreCost:
    prefix = f"civicloop-bench-{uuid.uuid4().hex}"
    limiter = Limiter(_store_settings(redis_url=redis_url, rate_limit_prefix=prefix))
    server = redis.Redis.from_url(redis_url)

    def used() -> int:
        info = server.info("memory")
        assert isinstance(info, dict)
        return int(info["used_memory"])

    before = used()
    try:
        times = await _count_clients(limiter, clients)
        after = used()
    finally:
        await limiter.storage.reset()
        server.close()
    return _cost(times, (after - before) / clients)


def _store_settings(**update: object) -> Settings:
    # The production allowances: one report per client is far within them.
    return Settings(environment="development", _env_file=None).model_copy(update=update)


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
    print(f"one check, alone, as {args.clients} clients report once each:")
    for name, cost in (
        ("memory", await _memory_cost(args.clients)),
        ("redis", await _redis_cost(args.redis_url, args.clients)),
    ):
        print(
            f"  {name:<8} {cost.first_us:7.0f} us (first 1000)  {cost.last_us:7.0f} us (last 1000)"
            f"  {cost.bytes_per_client:6.0f} bytes per client"
        )


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
