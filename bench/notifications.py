"""`python -m bench.notifications`: how fast the worker delivers, and how soon after a change.

Measures, on a dedicated PostGIS database (civicloop_bench_notify, dropped and recreated) with a
webhook receiver on 127.0.0.1: messages delivered per second by one and by two `civicloop worker`
processes, and the time from a committed status change to its webhook arriving (p50/p99).
bench/README.md explains the set-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import shapely
from shapely.geometry import MultiPolygon
from sqlalchemy import func, select

from app.db import Database
from app.dbmigrate import upgrade
from app.models import (
    Agency,
    Category,
    LonLat,
    Notification,
    NotificationPreference,
    NotificationStatus,
    Role,
    User,
    Webhook,
)
from app.services import accounts, issues, lifecycle
from app.services.lifecycle import Action
from bench.seed import check_loopback, database_url, log, recreate_database

REPO = Path(__file__).resolve().parents[1]
DATABASE_PREFIX = "civicloop_bench"
RESULTS_DIR = REPO / "bench" / "results"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Silom, Bangkok: inside the one agency's square jurisdiction.
SPOT = LonLat(100.529, 13.726)


@dataclass
class Arrival:
    at: float
    issue: str
    kind: str
    message_id: str


class Receiver:
    """A webhook receiver on 127.0.0.1 that notes when each message arrived."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self.lock = threading.Lock()

    def reset(self) -> None:
        with self.lock:
            self.arrivals = []

    def unique(self) -> int:
        with self.lock:
            return len({a.message_id for a in self.arrivals})

    def snapshot(self) -> list[Arrival]:
        with self.lock:
            return list(self.arrivals)


@contextmanager
def serve(receiver: Receiver) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as a production receiver behind a proxy would offer.
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            at = time.time()
            data = orjson.loads(body)
            with receiver.lock:
                receiver.arrivals.append(
                    Arrival(at, data["data"]["issue"]["id"], data["type"], data["id"])
                )
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class City:
    category: str
    agent_id: int


def build_city(database: Database, hook_url: str) -> City:
    """One agency with one agent (alerts off) and one webhook; reporters are devices without
    e-mail, so each report or step queues exactly one message: the agency's webhook."""
    with database.session(write=True) as session:
        category = Category(
            code="streetlight",
            group="lights",
            name_th="ไฟฟ้าส่องสว่าง",
            name_en="Street lights",
            keywords=[],
            acknowledge_target_hours=24,
            resolve_target_hours=72,
        )
        agency = Agency(
            slug="bench-district",
            name_th="สำนักงานเขตทดสอบ",
            name_en="Bench district office",
            jurisdiction=MultiPolygon([shapely.box(100.50, 13.70, 100.55, 13.75)]),
            categories=[category],
        )
        session.add(agency)
        session.flush()
        agent = User(email="agent@bench.example", role=Role.agent, agency_id=agency.id)
        session.add(agent)
        session.flush()
        # The agent takes the steps; new-issue e-mails to them would only add dead letters here.
        session.add(
            NotificationPreference(
                user_id=agent.id, email=False, webpush=False, webhook=False, agency_alerts=False
            )
        )
        session.add(
            Webhook(owner_id=agent.id, agency_id=agency.id, url=hook_url, secret="whsec_bench")
        )
        session.commit()
        return City(category.code, agent.id)


def report(database: Database, city: City, count: int) -> list[str]:
    """`count` reports through the service layer (one transaction per 500)."""
    ids: list[str] = []
    while len(ids) < count:
        with database.session(write=True) as session:
            for _ in range(min(500, count - len(ids))):
                reporter = accounts.device_user(session, f"bench-{uuid.uuid4().hex}")
                issue = issues.create_issue(
                    session,
                    spatial=database.spatial,
                    reporter=reporter,
                    category_code=city.category,
                    title="Lamp out",
                    description="",
                    location=SPOT,
                    address=None,
                ).issue
                ids.append(issue.public_id)
            session.commit()
    return ids


def pending(database: Database) -> int:
    with database.session(write=False) as session:
        return int(
            session.scalar(
                select(func.count()).where(Notification.status == NotificationStatus.pending)
            )
            or 0
        )


def spawn(url: str, poll: float, batch: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CIVICLOOP_DATABASE_URL": url,
        "CIVICLOOP_ENVIRONMENT": "test",
        "CIVICLOOP_SECRET_KEY": "bench-secret-key-long-enough-0123456789",
        "CIVICLOOP_OUTBOUND_ALLOW_LIST": '["127.0.0.1"]',
        "CIVICLOOP_WORKER_POLL_SECONDS": str(poll),
        "CIVICLOOP_WORKER_BATCH_SIZE": str(batch),
        "CIVICLOOP_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=30)


def wait_for(receiver: Receiver, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while receiver.unique() < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {receiver.unique()} of {count} messages arrived in {timeout}s")
        time.sleep(0.05)


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (PostgreSQL's percentile_cont)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def throughput(
    database: Database,
    url: str,
    city: City,
    receiver: Receiver,
    *,
    workers: int,
    messages: int,
    batch: int,
) -> dict[str, Any]:
    report(database, city, messages)
    receiver.reset()
    started = time.time()
    processes = [spawn(url, 0.1, batch) for _ in range(workers)]
    try:
        wait_for(receiver, messages, timeout=600)
    finally:
        stop(processes)
    arrivals = receiver.snapshot()
    first, last = min(a.at for a in arrivals), max(a.at for a in arrivals)
    ids = [a.message_id for a in arrivals]
    return {
        "workers": workers,
        "messages": messages,
        "received": len(ids),
        "duplicates": len(ids) - len(set(ids)),
        # From the first message received to the last: process start-up is not counted.
        "seconds": round(last - first, 3),
        "messages_per_s": round((messages - 1) / (last - first), 1),
        "first_after_start_s": round(first - started, 3),
    }


def latency(
    database: Database,
    url: str,
    city: City,
    receiver: Receiver,
    *,
    samples: int,
    poll: float,
    seed: int,
) -> dict[str, Any]:
    """Claim issues one at a time (as the agency's agent) and time each claim's webhook."""
    rng = random.Random(seed)
    issue_ids = report(database, city, samples)
    worker = spawn(url, poll, 50)
    try:
        while pending(database):  # the reports' own messages first
            time.sleep(0.1)
        receiver.reset()
        committed: dict[str, float] = {}
        for issue_id in issue_ids:
            with database.session(write=True) as session:
                issue = issues.get_issue(session, issue_id)
                agent = session.get(User, city.agent_id)
                assert agent is not None
                lifecycle.transition(
                    session,
                    issue=issue,
                    action=Action.claim,
                    actor=agent,
                    expected_version=None,
                    reopen_window=dt.timedelta(days=30),
                )
                session.commit()
            committed[issue_id] = time.time()
            # Spread the changes over the polling cycle instead of landing in step with it.
            time.sleep(rng.uniform(0, 2 * poll))
        wait_for(receiver, samples, timeout=120)
    finally:
        stop([worker])
    delays = [
        (a.at - committed[a.issue]) * 1000
        for a in receiver.snapshot()
        if a.kind == "issue.claimed" and a.issue in committed
    ]
    return {
        "poll_seconds": poll,
        "samples": len(delays),
        "p50_ms": round(quantile(delays, 0.5), 1),
        "p99_ms": round(quantile(delays, 0.99), 1),
        "max_ms": round(max(delays), 1),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.notifications", description=__doc__)
    parser.add_argument("--messages", type=int, default=2000, help="messages per throughput run")
    parser.add_argument("--batch", type=int, default=50, help="worker batch size")
    parser.add_argument("--samples", type=int, default=150, help="status changes timed")
    parser.add_argument(
        "--poll", type=float, nargs="+", default=[1.0, 0.1], help="worker poll intervals to time"
    )
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CIVICLOOP_BENCH_POSTGRES_URL")
        or os.environ.get("CIVICLOOP_TEST_POSTGRES_URL")
        or DEFAULT_ADMIN_URL,
    )
    parser.add_argument("--database", default=f"{DATABASE_PREFIX}_notify", help="dropped first")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if not args.database.startswith(DATABASE_PREFIX):
        parser.error(f"--database must start with {DATABASE_PREFIX!r}: it is dropped first")
    if args.messages < 2 or args.samples < 2:
        parser.error("--messages and --samples must be at least 2")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    check_loopback(args.postgres_url)
    log(f"recreating {args.database}")
    recreate_database(args.postgres_url, args.database)
    url = database_url(args.postgres_url, args.database)
    database = Database(url)
    upgrade(database.engine)
    receiver = Receiver()
    results: dict[str, Any] = {"throughput": [], "latency": []}
    try:
        with serve(receiver) as hook_url:
            city = build_city(database, hook_url)
            for workers in (1, 2):
                log(f"throughput: {args.messages} messages, {workers} worker(s)")
                results["throughput"].append(
                    throughput(
                        database,
                        url,
                        city,
                        receiver,
                        workers=workers,
                        messages=args.messages,
                        batch=args.batch,
                    )
                )
            for poll in args.poll:
                log(f"latency: {args.samples} status changes, worker polling every {poll}s")
                results["latency"].append(
                    latency(
                        database,
                        url,
                        city,
                        receiver,
                        samples=args.samples,
                        poll=poll,
                        seed=args.seed,
                    )
                )
    finally:
        database.dispose()
    for row in results["throughput"]:
        print(
            f"{row['workers']} worker(s): {row['messages_per_s']:>8} messages/s "
            f"({row['messages']} in {row['seconds']} s, {row['duplicates']} duplicates)"
        )
    for row in results["latency"]:
        print(
            f"status change -> webhook, polling {row['poll_seconds']} s: p50 {row['p50_ms']} ms, "
            f"p99 {row['p99_ms']} ms ({row['samples']} changes)"
        )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"notifications-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(
        json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, **results}, indent=2)
    )
    log(f"results in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
