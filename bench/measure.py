"""Measuring: the real API over HTTP against the same SQL sent directly with psycopg.

The SQL of the direct runs is not written here: it is captured from the application itself. Each
list request is first sent in-process to an app built by `create_app` (same code, same database),
and the one statement it executes, with its parameters, becomes the direct query for that point.
A create request is captured once the same way; the direct create replays those statements (the
reporter look-up, the category, the issue INSERT, routing, the candidate INSERT, the "reported"
event and the candidates read for the response) with fresh values, in one transaction, just as the
app does. What remains in the API figures and not in the direct ones is HTTP, FastAPI, Pydantic,
the ORM and the JSON response.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
from psycopg.rows import dict_row
from sqlalchemy import event

from app.config import Settings
from app.db import Database
from app.main import create_app
from app.services.issues import new_public_id
from bench.data import CityModel
from bench.seed import METRES_PER_DEGREE, device_hash, device_id

REPO = Path(__file__).resolve().parent.parent
ISSUES_PATH = "/api/v1/issues"
RADIUS_M = 500
T = TypeVar("T")


class BenchError(RuntimeError):
    """The benchmark cannot measure what it claims to measure."""


# ---------------------------------------------------------------------------------------------
# Statistics and the load driver


@dataclass
class Summary:
    requests: int
    concurrency: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    requests_per_s: float
    errors: int

    @classmethod
    def of(
        cls, latencies_ms: Sequence[float], wall_s: float, concurrency: int, errors: int
    ) -> Summary:
        ordered = sorted(latencies_ms)
        return cls(
            requests=len(ordered),
            concurrency=concurrency,
            p50_ms=round(percentile(ordered, 50), 3),
            p99_ms=round(percentile(ordered, 99), 3),
            mean_ms=round(sum(ordered) / len(ordered), 3) if ordered else math.nan,
            requests_per_s=round(len(ordered) / wall_s, 1) if wall_s > 0 else math.nan,
            errors=errors,
        )


def percentile(ordered: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default) on sorted values."""
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


Worker = Callable[[], AbstractContextManager[Callable[[T], None]]]


def run_load(
    tasks: Sequence[T], warmup: Sequence[T], concurrency: int, worker: Worker[T]
) -> Summary:
    """Send every task once from `concurrency` threads, each with its own client or connection.

    Each thread first sends its share of `warmup` (not timed). The clock starts when all threads
    are ready; a task's latency is from just before it is sent to its last byte read.
    """
    latencies: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    ready = threading.Barrier(concurrency + 1)
    position = iter(range(len(tasks)))

    def thread(index: int) -> None:
        mine: list[float] = []
        try:
            with worker() as send:
                for task in warmup[index::concurrency]:
                    send(task)
                ready.wait()
                while True:
                    with lock:
                        i = next(position, None)
                    if i is None:
                        break
                    start = time.perf_counter()
                    try:
                        send(tasks[i])
                    except Exception as exc:
                        with lock:
                            failures.append(exc)
                        continue
                    mine.append((time.perf_counter() - start) * 1000)
        except threading.BrokenBarrierError:
            return
        except Exception as exc:
            with lock:
                failures.append(exc)
            ready.abort()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=thread, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        for t in threads:
            t.join()
        raise BenchError(f"a worker failed before the measurement: {failures[:1]!r}") from None
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if failures:
        print(f"  ! {len(failures)} failed requests, first: {failures[0]!r}", flush=True)
    return Summary.of(latencies, wall, concurrency, len(failures))


# ---------------------------------------------------------------------------------------------
# Workload: where people look and what they report


@dataclass(frozen=True)
class ReadTask:
    query: dict[str, str]  # the API's query string
    sql: str  # the statement the app executed for it
    params: Mapping[str, Any]
    items: int  # what the in-process app answered, to compare


@dataclass(frozen=True)
class CreateTask:
    device: str
    category: str
    title: str
    description: str
    lon: float
    lat: float
    address: str | None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "category": self.category,
            "title": self.title,
            "description": self.description,
            "latitude": self.lat,
            "longitude": self.lon,
        }
        if self.address:
            body["address"] = self.address
        return body


def _near(rng: random.Random, city: CityModel, sigma_m: float) -> tuple[float, float, int]:
    """A position near a real report: where people are when they look or report."""
    c = rng.randrange(len(city.centres))
    centre = city.centres[c]
    lat = centre.lat + rng.gauss(0.0, sigma_m) / METRES_PER_DEGREE
    lon = centre.lon + rng.gauss(0.0, sigma_m) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return round(lon, 6), round(lat, 6), c


def radius_queries(rng: random.Random, city: CityModel, count: int) -> list[dict[str, str]]:
    queries = []
    for _ in range(count):
        lon, lat, _c = _near(rng, city, 150.0)
        queries.append({"lat": f"{lat}", "lon": f"{lon}", "radius": f"{RADIUS_M}"})
    return queries


def bbox_queries(rng: random.Random, city: CityModel, count: int) -> list[dict[str, str]]:
    """Map viewports on a phone held upright, from a few streets to a few districts' corner."""
    queries = []
    for _ in range(count):
        lon, lat, _c = _near(rng, city, 150.0)
        width_m = rng.uniform(400.0, 2500.0)
        half_lat = width_m * 0.9 / METRES_PER_DEGREE
        half_lon = width_m / 2 / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
        box = (lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)
        queries.append({"bbox": ",".join(f"{v:.6f}" for v in box)})
    return queries


def create_tasks(
    rng: random.Random, city: CityModel, codes: Sequence[str], reporters: int, count: int
) -> list[CreateTask]:
    tasks = []
    for _ in range(count):
        lon, lat, c = _near(rng, city, 150.0)
        centre = city.centres[c]
        code = centre.category_code if centre.category_code in codes else rng.choice(codes)
        assert code is not None
        tasks.append(
            CreateTask(
                device=device_id(rng.randrange(reporters)),
                category=code,
                title=centre.title or f"Problem: {code}",
                description=centre.description,
                lon=lon,
                lat=lat,
                address=centre.address,
            )
        )
    return tasks


# ---------------------------------------------------------------------------------------------
# Capturing the application's SQL


@dataclass(frozen=True)
class Statement:
    sql: str
    params: Any  # a dict, or a list of dicts for executemany
    many: bool

    def bind(self, **values: Any) -> dict[str, Any]:
        """The captured parameters with some replaced; a name the app no longer uses is an error."""
        assert isinstance(self.params, Mapping)
        unknown = set(values) - set(self.params)
        if unknown:
            raise BenchError(
                f"the app's statement no longer has parameters {sorted(unknown)}: update "
                f"bench/measure.py to match it:\n{self.sql}"
            )
        return {**self.params, **values}

    @property
    def head(self) -> str:
        return " ".join(self.sql.split())[:90]


# The statements one "report an issue" request executes, in order, recognised by their start:
# these first, then the outbox's (see OUTBOX_HEADS), then CREATE_TAIL.
CREATE_SHAPE = (
    ("reporter", "SELECT user_account."),
    ("category", "SELECT category."),
    ("issue", "INSERT INTO issue ("),
    ("routing", "SELECT agency.id"),
    ("candidates", "INSERT INTO issue_candidate"),
    ("follow", "INSERT INTO follow"),
    ("event", "INSERT INTO issue_event"),
)
# The outbox (app/services/notifications/outbox.py) reads who to tell and inserts their messages;
# how many statements depends on the recipients, so they are replayed as the sample ran them.
OUTBOX_HEADS = ("SELECT ", "INSERT INTO notification")
CREATE_TAIL = ("candidates_read", "SELECT issue_candidate.agency_id")
# Parameters of the outbox statements that belong to the new report, by name without suffixes.
_FRESH_ISSUE = re.compile(r"issue_id(_\d+)?")


@dataclass
class Captured:
    radius: list[ReadTask] = field(default_factory=list)
    bbox: list[ReadTask] = field(default_factory=list)
    create: dict[str, Statement] = field(default_factory=dict)
    outbox: list[Statement] = field(default_factory=list)


class SqlRecorder:
    def __init__(self, database: Database) -> None:
        self.statements: list[Statement] = []
        event.listen(database.engine, "before_cursor_execute", self._record)

    def _record(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        self.statements.append(Statement(statement, parameters, executemany))

    def take(self) -> list[Statement]:
        taken, self.statements = self.statements, []
        return taken


def capture(
    url: str,
    radius: Sequence[dict[str, str]],
    bbox: Sequence[dict[str, str]],
    create_sample: CreateTask,
) -> Captured:
    """Send every read (and one create) to the app in-process, recording the SQL it runs."""
    settings = Settings(database_url=url, auto_migrate=False, log_level="WARNING", _env_file=None)
    database = Database(url, pool_size=2)
    recorder = SqlRecorder(database)
    app = create_app(settings, database)
    captured = Captured()

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://capture") as client:
            for queries, into in ((radius, captured.radius), (bbox, captured.bbox)):
                for query in queries:
                    response = await client.get(ISSUES_PATH, params=query)
                    if response.status_code != 200:
                        raise BenchError(f"{query} answered {response.status_code}")
                    statements = recorder.take()
                    if len(statements) != 1:
                        heads = [s.head for s in statements]
                        raise BenchError(
                            f"a list request ran {len(statements)} statements: {heads}"
                        )
                    (only,) = statements
                    items = len(response.json()["items"])
                    into.append(ReadTask(query, only.sql, only.params, items))
            recorder.take()
            response = await client.post(
                ISSUES_PATH,
                json=create_sample.body(),
                headers={"X-Device-Id": create_sample.device},
            )
            if response.status_code != 201:
                raise BenchError(f"the sample create answered {response.status_code}")
            statements = recorder.take()
            shape = [head for _name, head in CREATE_SHAPE]
            first, outbox = statements[: len(shape)], statements[len(shape) : -1]
            if (
                len(statements) < len(shape) + 1
                or not all(
                    s.sql.lstrip().startswith(head) for s, head in zip(first, shape, strict=True)
                )
                or not all(s.sql.lstrip().startswith(OUTBOX_HEADS) for s in outbox)
                or not statements[-1].sql.lstrip().startswith(CREATE_TAIL[1])
            ):
                found = "\n  ".join(s.head for s in statements)
                raise BenchError(
                    f"creating an issue no longer runs the statements bench/measure.py replays "
                    f"directly; update CREATE_SHAPE and direct_create. The app ran:\n  {found}"
                )
            captured.create = {
                name: s for (name, _head), s in zip(CREATE_SHAPE, first, strict=True)
            }
            captured.create[CREATE_TAIL[0]] = statements[-1]
            captured.outbox = outbox

    try:
        asyncio.run(run())
    finally:
        database.dispose()
    return captured


# ---------------------------------------------------------------------------------------------
# The two sides: HTTP to the server, and the driver to the database


def http_worker(base_url: str, send: Callable[[httpx.Client, T], None]) -> Worker[T]:
    @contextmanager
    def worker() -> Iterator[Callable[[T], None]]:
        # trust_env=False: no proxy from the environment, the traffic stays on the loopback.
        with httpx.Client(base_url=base_url, timeout=60.0, trust_env=False) as client:
            yield lambda task: send(client, task)

    return worker


def api_read(client: httpx.Client, task: ReadTask) -> None:
    response = client.get(ISSUES_PATH, params=task.query)
    if response.status_code != 200:
        raise BenchError(f"GET {task.query} answered {response.status_code}: {response.text[:200]}")


def api_create(client: httpx.Client, task: CreateTask) -> None:
    response = client.post(ISSUES_PATH, json=task.body(), headers={"X-Device-Id": task.device})
    if response.status_code != 201:
        raise BenchError(f"POST answered {response.status_code}: {response.text[:200]}")


def driver_worker(
    database: Database, send: Callable[[psycopg.Connection[Any], T], None]
) -> Worker[T]:
    """A psycopg connection made by the app's own engine: same driver, same connection settings."""

    @contextmanager
    def worker() -> Iterator[Callable[[T], None]]:
        pooled = database.engine.raw_connection()
        try:
            connection = pooled.driver_connection
            if not isinstance(connection, psycopg.Connection):
                raise BenchError(f"expected a psycopg connection, got {type(connection)}")
            yield lambda task: send(connection, task)
        finally:
            pooled.close()

    return worker


def direct_read(connection: psycopg.Connection[Any], task: ReadTask) -> None:
    """What the app sends for a list request: BEGIN, the query, COMMIT (its unit of work)."""
    with connection.cursor() as cursor:
        cursor.execute(task.sql, task.params)
        cursor.fetchall()
    connection.commit()


@dataclass(frozen=True)
class DirectCreate:
    statements: dict[str, Statement]
    outbox: list[Statement]

    def __call__(self, connection: psycopg.Connection[Any], task: CreateTask) -> None:
        """The app's create, statement by statement, with the values the app would compute."""
        s = self.statements
        with connection.cursor(row_factory=dict_row) as cursor:
            reporter = _one(
                cursor.execute(
                    s["reporter"].sql, s["reporter"].bind(device_id_hash_1=device_hash(task.device))
                )
            )
            category = _one(
                cursor.execute(s["category"].sql, s["category"].bind(code_1=task.category))
            )
            now = dt.datetime.now(dt.UTC)
            issue = _one(
                cursor.execute(
                    s["issue"].sql,
                    s["issue"].bind(
                        public_id=new_public_id(),
                        category_id=category["id"],
                        reporter_id=reporter["id"],
                        title=task.title,
                        description=task.description,
                        location=f"SRID=4326;POINT({task.lon!r} {task.lat!r})",
                        address=task.address,
                        acknowledge_due_at=now
                        + dt.timedelta(hours=category["acknowledge_target_hours"]),
                        resolve_due_at=now + dt.timedelta(hours=category["resolve_target_hours"]),
                        created_at=now,
                        updated_at=now,
                    ),
                )
            )
            agencies = cursor.execute(
                s["routing"].sql,
                s["routing"].bind(
                    category_id_1=category["id"], ST_MakePoint_1=task.lon, ST_MakePoint_2=task.lat
                ),
            ).fetchall()
            if agencies:
                cursor.executemany(
                    s["candidates"].sql,
                    [{"issue_id": issue["id"], "agency_id": a["id"]} for a in agencies],
                )
            cursor.execute(
                s["follow"].sql,
                s["follow"].bind(issue_id=issue["id"], user_id=reporter["id"], created_at=now),
            )
            event = _one(
                cursor.execute(
                    s["event"].sql,
                    s["event"].bind(
                        issue_id=issue["id"],
                        created_at=dt.datetime.now(dt.UTC),
                        actor_id=reporter["id"],
                        actor_agency_id=reporter["agency_id"],
                        actor_role=reporter["role"],
                    ),
                )
            )
            for statement in self.outbox:
                cursor.execute(statement.sql, _fresh(statement, issue["id"], event["id"], now))
                if cursor.description is not None:
                    cursor.fetchall()
            cursor.execute(
                s["candidates_read"].sql, s["candidates_read"].bind(issue_id_1=issue["id"])
            ).fetchall()
        connection.commit()


def _fresh(statement: Statement, issue_id: int, event_id: int, now: dt.datetime) -> dict[str, Any]:
    """An outbox statement's sample parameters, with the new report's ids, times and message ids
    (the recipients stay the sample's: the same number of rows, the same cost)."""
    params = dict(statement.params)
    for name in params:
        base = name.split("__", 1)[0]
        if _FRESH_ISSUE.fullmatch(base):
            params[name] = issue_id
        elif base == "event_id":
            params[name] = event_id
        elif base == "message_id":
            params[name] = str(uuid.uuid4())
        elif base in ("created_at", "updated_at", "next_attempt_at"):
            params[name] = now
    return params


def _one(cursor: psycopg.Cursor[dict[str, Any]]) -> dict[str, Any]:
    row = cursor.fetchone()
    if row is None:
        raise BenchError("a replayed statement returned no row")
    return row


# ---------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def api_server(url: str, workers: int, log_path: Path) -> Iterator[str]:
    """`civicloop serve` on a free loopback port, against the bench database; stopped after."""
    with server_process(url, workers, log_path) as (base_url, _):
        yield base_url


@contextmanager
def server_process(
    url: str, workers: int, log_path: Path, env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The server, its base URL and its process (whose memory bench.photos watches)."""
    port = free_port()
    script = Path(sys.executable).with_name("civicloop")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]
    command += ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    environment = {
        **os.environ,
        "CIVICLOOP_DATABASE_URL": url,
        "CIVICLOOP_AUTO_MIGRATE": "false",
        "CIVICLOOP_LOG_LEVEL": os.environ.get("CIVICLOOP_BENCH_SERVER_LOG_LEVEL", "WARNING"),
        "CIVICLOOP_ENVIRONMENT": "development",
        **(env or {}),
    }
    base_url = f"http://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, env=environment, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_ready(base_url, process, log_path)
        yield base_url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    with httpx.Client(base_url=base_url, timeout=5.0, trust_env=False) as client:
        for _ in range(150):  # 30 s at most
            if process.poll() is not None:
                raise BenchError(f"the server exited ({process.returncode}); see {log_path}")
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise BenchError(f"the server did not become ready in 30 s; see {log_path}")


# ---------------------------------------------------------------------------------------------
# One comparison


@dataclass
class Comparison:
    scenario: str
    api: list[Summary] = field(default_factory=list)
    direct: list[Summary] = field(default_factory=list)


def compare(
    scenario: str,
    tasks: Sequence[T],
    warmup: Sequence[T],
    levels: Sequence[int],
    api: Worker[T],
    direct: Worker[T],
) -> Comparison:
    """API and direct at each concurrency level, on the same tasks.

    The side that goes first alternates from level to level, so that neither always finds the
    caches the other warmed.
    """
    result = Comparison(scenario)
    for n, level in enumerate(levels):
        sides = [("api", api, result.api), ("direct", direct, result.direct)]
        for side, worker, into in sides if n % 2 == 0 else sides[::-1]:
            summary = run_load(tasks, warmup, level, worker)
            into.append(summary)
            print(
                f"  {scenario:<14} {side:<6} c={level:<2} p50 {summary.p50_ms:7.2f} ms  "
                f"p99 {summary.p99_ms:7.2f} ms  mean {summary.mean_ms:7.2f} ms  "
                f"{summary.requests_per_s:8.1f} req/s",
                flush=True,
            )
    return result
