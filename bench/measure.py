"""Measuring: the real API over HTTP against the same SQL sent directly with psycopg.

The SQL of the direct runs is not written here: it is captured from the application itself. Each
list request is first sent in-process to an app built by `create_app` (same code, same database),
and the statements it executes, with their parameters, become the direct queries for that point.
Each create is captured the same way, every statement and every transaction end; the direct side
replays them with what must be new for a new report (the ids the database chooses, the public id,
message ids, times), committing where the app committed. What remains in the API figures and not
in the direct ones is HTTP, FastAPI, Pydantic, the ORM and the JSON response. Request bodies and
expected answers come from the app's OpenAPI document (bench.shapes).
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
from psycopg import sql
from sqlalchemy import event

from app.config import Settings
from app.db import Database
from app.main import create_app
from app.services.issues import new_public_id
from bench.data import CityModel
from bench.generate import METRES_PER_DEGREE, device_id
from bench.shapes import ISSUES_PATH, Api, Report

REPO = Path(__file__).resolve().parent.parent
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
        # A run with failed requests measured something else than it says: stop.
        raise BenchError(f"{len(failures)} requests failed, first: {failures[0]!r}")
    return Summary.of(latencies, wall, concurrency, len(failures))


# ---------------------------------------------------------------------------------------------
# Workload: where people look and what they report


@dataclass(frozen=True)
class ReadTask:
    query: dict[str, str]  # the API's query string
    statements: tuple[Statement, ...]  # what the app executed for it, in order
    items: int  # what the in-process app answered, to compare


@dataclass(frozen=True)
class CreateTask:
    device: str
    body: dict[str, Any]  # built by bench.shapes from the app's own IssueCreate schema


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
    rng: random.Random,
    city: CityModel,
    codes: Sequence[str],
    reporters: int,
    count: int,
    api: Api,
) -> list[CreateTask]:
    tasks = []
    for _ in range(count):
        lon, lat, c = _near(rng, city, 150.0)
        centre = city.centres[c]
        code = centre.category_code if centre.category_code in codes else rng.choice(codes)
        assert code is not None
        report = Report(
            category=code,
            title=centre.title or f"Problem: {code}",
            description=centre.description,
            latitude=lat,
            longitude=lon,
            address=centre.address,
        )
        tasks.append(CreateTask(device_id(rng.randrange(reporters)), api.create_body(report)))
    return tasks


# ---------------------------------------------------------------------------------------------
# Capturing the application's SQL


@dataclass(frozen=True)
class Statement:
    sql: str
    params: Any  # a dict, or a list of dicts for executemany; None for COMMIT / ROLLBACK
    many: bool
    # The rows an INSERT ... RETURNING gave (the ids the database chose) and their columns.
    returned: tuple[tuple[Any, ...], ...] | None = None
    columns: tuple[str, ...] = ()

    @property
    def head(self) -> str:
        return " ".join(self.sql.split())[:90]

    @property
    def ends_transaction(self) -> bool:
        """A COMMIT or ROLLBACK marker (SqlRecorder), not a statement the app sent."""
        return self.params is None and self.sql in (COMMIT, ROLLBACK)


COMMIT, ROLLBACK = "COMMIT", "ROLLBACK"


@dataclass
class Captured:
    radius: list[ReadTask] = field(default_factory=list)
    bbox: list[ReadTask] = field(default_factory=list)
    creates: list[CapturedCreate] = field(default_factory=list)


class SqlRecorder:
    """Every statement an engine executes, with its parameters, and where its transactions end.

    The rows of an INSERT ... RETURNING are read (and the cursor rewound for the app), so that
    a replay can tell which parameters of later statements were the ids the database chose.
    """

    def __init__(self, database: Database) -> None:
        self.statements: list[Statement] = []
        event.listen(database.engine, "after_cursor_execute", self._record)
        event.listen(database.engine, "commit", lambda _conn: self._end(COMMIT))
        event.listen(database.engine, "rollback", lambda _conn: self._end(ROLLBACK))

    def _record(
        self,
        _conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        # SQLAlchemy's "insertmanyvalues" reports one multi-row INSERT (a mapping of
        # parameters) as executemany; it is sent, and so replayed, as one statement.
        many = executemany and not isinstance(parameters, Mapping)
        returned, columns = None, ()
        if (
            not many
            and cursor.description is not None
            and statement.lstrip().upper().startswith("INSERT")
        ):
            columns = tuple(column.name for column in cursor.description)
            returned = tuple(tuple(row) for row in cursor.fetchall())
            cursor.scroll(0, mode="absolute")
        self.statements.append(Statement(statement, parameters, many, returned, columns))

    def _end(self, how: str) -> None:
        self.statements.append(Statement(how, None, False))

    def take(self) -> list[Statement]:
        taken, self.statements = self.statements, []
        return taken


@dataclass(frozen=True)
class CapturedCreate:
    """One create as the app ran it in-process: what a direct replay sends again.

    The replay keeps every statement and parameter, except what must be new for a new report:
    the ids the database chose (an earlier INSERT's RETURNING, mapped to the replay's own), the
    app's generated public id, fresh UUIDs (message ids) and times moved to the replay's "now".
    """

    task: CreateTask
    statements: tuple[Statement, ...]
    generated: frozenset[str]  # values the app made up for this report (its public id)
    at: dt.datetime


# Each table's new ids start at its own multiple of this (far above any seeded id, and below
# 2**53, so JSON readers keep them exact).
ID_RANGE = 10**12


def separate_id_ranges(url: str) -> None:
    """Give every table's id sequence a range of its own in the bench database, so that an id a
    create's INSERT returned is no other row's id: a replay can then tell, by value alone, which
    parameters of later statements were those ids."""
    with psycopg.connect(url, autocommit=True) as connection:
        sequences = connection.execute(
            "SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2"
        ).fetchall()
        for k, (schema, name, last) in enumerate(sequences, start=1):
            if last is None or last < k * ID_RANGE:
                connection.execute(
                    sql.SQL("SELECT setval({}, %s)").format(
                        sql.Literal(f"{sql.Identifier(schema, name).as_string()}")
                    ),
                    [k * ID_RANGE],
                )


def _returned_ids(statements: Sequence[Statement]) -> list[int]:
    return [
        row[column]
        for s in statements
        if s.returned is not None
        for row in s.returned
        for column, name in enumerate(s.columns)
        if name == "id"
    ]


def capture(
    url: str,
    api: Api,
    radius: Sequence[dict[str, str]],
    bbox: Sequence[dict[str, str]],
    creates: Sequence[CreateTask],
) -> Captured:
    """Send every read and every create to the app in-process, recording the SQL it runs."""
    # Limits off here: the recording client is one address sending every create of the run.
    settings = Settings(
        database_url=url,
        auto_migrate=False,
        log_level="WARNING",
        rate_limits_enabled=False,
        _env_file=None,
    )
    separate_id_ranges(url)
    database = Database(url, pool_size=2)
    recorder = SqlRecorder(database)
    app = create_app(settings, database)
    captured = Captured()
    items_key = api.page_items(ISSUES_PATH)
    created = api.success_status(ISSUES_PATH, "post")

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://capture") as client:
            for queries, into in ((radius, captured.radius), (bbox, captured.bbox)):
                for query in queries:
                    api.check_query(ISSUES_PATH, query)
                    response = await client.get(ISSUES_PATH, params=query)
                    if response.status_code != 200:
                        raise BenchError(f"{query} answered {response.status_code}")
                    statements = tuple(s for s in recorder.take() if not s.ends_transaction)
                    items = len(response.json()[items_key])
                    into.append(ReadTask(query, statements, items))
            recorder.take()
            for task in creates:
                at = dt.datetime.now(dt.UTC)
                response = await client.post(
                    ISSUES_PATH, json=task.body, headers={"X-Device-Id": task.device}
                )
                recorded = tuple(recorder.take())
                if response.status_code != created:
                    raise BenchError(
                        f"a create answered {response.status_code}: {response.text[:300]}"
                    )
                ids = _returned_ids(recorded)
                if len(set(ids)) != len(ids):
                    raise BenchError(f"two new rows of one create got the same id: {ids}")
                # The wire id is the public id the app generated: a replay needs a new one.
                public_id = response.json()["id"]
                captured.creates.append(CapturedCreate(task, recorded, frozenset({public_id}), at))

    try:
        asyncio.run(run())
    finally:
        database.dispose()
    if not captured.creates:
        raise BenchError("no create could be captured")
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


def api_create(status: int) -> Callable[[httpx.Client, CapturedCreate], None]:
    """POST the captured create's body as its reporter, expecting the documented `status`."""

    def send(client: httpx.Client, task: CapturedCreate) -> None:
        response = client.post(
            ISSUES_PATH, json=task.task.body, headers={"X-Device-Id": task.task.device}
        )
        if response.status_code != status:
            raise BenchError(f"POST answered {response.status_code}: {response.text[:200]}")

    return send


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
    """What the app sends for a list request: BEGIN, its queries, COMMIT (its unit of work)."""
    with connection.cursor() as cursor:
        for statement in task.statements:
            cursor.execute(statement.sql, statement.params)
            cursor.fetchall()
    connection.commit()


@dataclass(frozen=True)
class DirectCreate:
    """The app's create, statement by statement, committed where the app committed."""

    def __call__(self, connection: psycopg.Connection[Any], task: CapturedCreate) -> None:
        renew = _Renewal(task)
        with connection.cursor() as cursor:
            for statement in task.statements:
                if statement.sql == COMMIT:
                    connection.commit()
                elif statement.sql == ROLLBACK:
                    connection.rollback()
                elif statement.many:
                    cursor.executemany(statement.sql, [renew(p) for p in statement.params])
                else:
                    cursor.execute(statement.sql, renew(statement.params))
                    if cursor.description is not None:
                        rows = cursor.fetchall()
                        if statement.returned is not None:
                            renew.learn(statement, rows)
        connection.commit()


class _Renewal:
    """A captured statement's parameters for a new report (see CapturedCreate)."""

    def __init__(self, task: CapturedCreate) -> None:
        self.shift = dt.datetime.now(dt.UTC) - task.at
        self.values: dict[Any, Any] = {v: new_public_id() for v in task.generated}
        self.ids: dict[int, int] = {}

    def learn(self, statement: Statement, rows: Sequence[tuple[Any, ...]]) -> None:
        assert statement.returned is not None
        if len(rows) != len(statement.returned):
            raise BenchError(f"a replayed INSERT returned {len(rows)} rows: {statement.head}")
        for old, new in zip(statement.returned, rows, strict=True):
            for column, name in enumerate(statement.columns):
                if name == "id":
                    self.ids[old[column]] = new[column]

    def __call__(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self(v) for v in value)
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return self.ids.get(value, value)
        if isinstance(value, dt.datetime):
            return value + self.shift
        if isinstance(value, uuid.UUID):
            return self.values.setdefault(value, uuid.uuid4())
        if isinstance(value, str):
            if value in self.values:
                return self.values[value]
            if _UUID_TEXT.fullmatch(value):
                return self.values.setdefault(value, str(uuid.uuid4()))
        return value


_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# ---------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# The run reports from one address far more than a person may: the limits are still counted (their
# cost is part of a create), with allowances no run reaches. bench.limits measures them alone.
BENCH_ALLOWANCES = {
    "CIVICLOOP_RATE_LIMIT_REPORT": "1000000/hour",
    "CIVICLOOP_RATE_LIMIT_REPORT_IP": "1000000/hour",
}


@contextmanager
def api_server(url: str, workers: int, log_path: Path) -> Iterator[str]:
    """`civicloop serve` on a free loopback port, against the bench database; stopped after."""
    with server_process(url, workers, log_path, BENCH_ALLOWANCES) as (base_url, _):
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
        # 180 s at most: on a shared machine (load 15-20 on 2 cores) building the app alone has
        # taken over 90 s.
        for _ in range(900):
            if process.poll() is not None:
                raise BenchError(f"the server exited ({process.returncode}); see {log_path}")
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise BenchError(f"the server did not become ready in 180 s; see {log_path}")


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
    names: tuple[str, str] = ("api", "direct"),
) -> Comparison:
    """API and direct at each concurrency level, on the same tasks.

    The side that goes first alternates from level to level, so that neither always finds the
    caches the other warmed.
    """
    result = Comparison(scenario)
    for n, level in enumerate(levels):
        sides = [(names[0], api, result.api), (names[1], direct, result.direct)]
        for side, worker, into in sides if n % 2 == 0 else sides[::-1]:
            summary = run_load(tasks, warmup, level, worker)
            into.append(summary)
            print(
                f"  {scenario:<14} {side:<9} c={level:<2} p50 {summary.p50_ms:7.2f} ms  "
                f"p99 {summary.p99_ms:7.2f} ms  mean {summary.mean_ms:7.2f} ms  "
                f"{summary.requests_per_s:8.1f} req/s",
                flush=True,
            )
    return result
