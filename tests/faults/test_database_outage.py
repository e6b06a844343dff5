"""Reports survive the database going away: clients that retry with an Idempotency-Key get
each report stored exactly once, the outage is answered 503 with Retry-After (never 500), and
the same server process answers normally once the database is back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.models import Issue
from tests.conftest import TEST_SECRET
from tests.factories import IN_WEST, make_category
from tests.faults.conftest import FaultyDatabase
from tests.platform.server import CIVICLOOP, clean_environment, free_port, serving

CLIENTS = 6
# Acknowledged reports before the outage starts, and after the database is back.
REPORTS_AROUND_OUTAGE = 12
REPORT_DEADLINE_S = 90.0  # one report, retried, must be acknowledged within this
TITLE_PREFIX = "Outage test"


@dataclass
class Tally:
    sent: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # title -> issue id
    unavailable: int = 0  # 503 answers
    transport_errors: int = 0
    replays: int = 0
    answers: Counter[int] = field(default_factory=Counter)


async def _report(client: httpx.AsyncClient, device: str, title: str, tally: Tally) -> None:
    """One report, retried with its key until it is acknowledged, as the mobile app does."""
    key = str(uuid.uuid4())
    tally.sent += 1
    deadline = time.monotonic() + REPORT_DEADLINE_S
    while time.monotonic() < deadline:
        try:
            response = await client.post(
                "/api/v1/issues",
                headers={"Idempotency-Key": key, "X-Device-Id": device},
                json={
                    "category": "pothole",
                    "title": title,
                    "latitude": IN_WEST[1],
                    "longitude": IN_WEST[0],
                },
            )
        except httpx.TransportError:
            tally.transport_errors += 1
            await asyncio.sleep(0.5)
            continue
        tally.answers[response.status_code] += 1
        if response.status_code == 201:
            tally.replays += response.headers.get("Idempotent-Replayed") == "true"
            tally.acknowledged[title] = response.json()["id"]
            return
        if response.status_code == 503:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].endswith("/problems/database-unavailable")
            tally.unavailable += 1
            await asyncio.sleep(float(response.headers["Retry-After"]))
            continue
        # The first attempt may still be in flight on the server when its retry arrives.
        assert response.status_code == 409, response.text
        await asyncio.sleep(0.5)
    raise AssertionError(f"{title!r} was never acknowledged: {tally}")


async def _client(base_url: str, n: int, stop: asyncio.Event, tally: Tally) -> None:
    device = f"outage-client-{n:02d}-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        i = 0
        while not stop.is_set():
            await _report(client, device, f"{TITLE_PREFIX} {n}-{i}", tally)
            i += 1


async def _until(
    condition: Callable[[], bool], what: str, clients: list[asyncio.Task[None]]
) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        for task in clients:
            if task.done():
                task.result()  # a client that met a wrong answer fails the test now
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _run_clients_through_outage(base_url: str, faulty: FaultyDatabase) -> Tally:
    tally = Tally()
    stop = asyncio.Event()
    clients = [asyncio.create_task(_client(base_url, n, stop, tally)) for n in range(CLIENTS)]
    try:
        await _until(
            lambda: len(tally.acknowledged) >= REPORTS_AROUND_OUTAGE, "reports before", clients
        )
        await asyncio.to_thread(faulty.outage)
        back = len(tally.acknowledged)
        await _until(
            lambda: len(tally.acknowledged) >= back + REPORTS_AROUND_OUTAGE,
            "reports after",
            clients,
        )
        stop.set()
        await asyncio.gather(*clients)
    finally:
        for task in clients:
            task.cancel()
    return tally


def test_reports_survive_a_database_outage_exactly_once(
    faulty_database: FaultyDatabase, tmp_path: Path
) -> None:
    with faulty_database.database.session(write=True) as session:
        make_category(session, "pothole")
    port = free_port()
    env = clean_environment(
        CIVICLOOP_DATABASE_URL=faulty_database.url,
        CIVICLOOP_DATA_DIR=str(tmp_path),
        CIVICLOOP_SECRET_KEY=TEST_SECRET,
        CIVICLOOP_AUTO_MIGRATE="false",
        CIVICLOOP_LOG_FORMAT="text",
        # Six clients report from one address as fast as they can; rate limits are tests/limits'.
        CIVICLOOP_RATE_LIMITS_ENABLED="false",
        **faulty_database.settings,
    )
    args = [CIVICLOOP, "serve", "--port", str(port), "--workers", "1"]
    with serving(args, env=env, cwd=tmp_path, port=port) as server:
        server.wait_until("/readyz")
        tally = asyncio.run(_run_clients_through_outage(server.base_url, faulty_database))

        # The same process, never restarted, answers as before.
        assert server.process.poll() is None, server.output()
        assert httpx.get(f"{server.base_url}/readyz", timeout=10).status_code == 200
        after = httpx.post(
            f"{server.base_url}/api/v1/issues",
            headers={"X-Device-Id": f"after-outage-{uuid.uuid4().hex}"},
            json={"category": "pothole", "title": "After", "latitude": 13.72, "longitude": 100.52},
            timeout=10,
        )
        assert after.status_code == 201, after.text
        output = server.output()

    with faulty_database.database.session(write=False) as session:
        stored = dict(
            session.execute(
                select(Issue.title, func.count())
                .where(Issue.title.startswith(TITLE_PREFIX))
                .group_by(Issue.title)
            ).all()
        )
        ids = dict(
            session.execute(
                select(Issue.title, Issue.public_id).where(Issue.title.startswith(TITLE_PREFIX))
            ).all()
        )
    duplicated = sum(n - 1 for n in stored.values())
    print(
        f"\n{faulty_database.what}: sent {tally.sent}, acknowledged {len(tally.acknowledged)}, "
        f"503 answers {tally.unavailable}, transport errors {tally.transport_errors}, "
        f"replayed {tally.replays}, stored {sum(stored.values())}, duplicated {duplicated}; "
        f"answers {dict(tally.answers)}"
    )
    assert tally.unavailable > 0, "the outage was never felt: the test proves nothing"
    assert 500 not in tally.answers, output
    assert "Traceback" not in output, output
    assert duplicated == 0
    # Every acknowledged report is stored, as the very issue the client was told about.
    assert {title: ids.get(title) for title in tally.acknowledged} == tally.acknowledged
    # Clients retry each report until it is acknowledged: nothing was sent and then given up.
    assert set(stored) == set(tally.acknowledged)
    assert tally.sent == len(tally.acknowledged)
