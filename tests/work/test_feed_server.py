"""The live feed against real `civicloop serve` processes sharing one database: a browser that
reconnects with Last-Event-ID to another process gets what it missed, then the live events; a
client that never reads is dropped while everyone else is served."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from sqlalchemy import insert

from app.config import Settings
from app.db import Database
from app.models import IssueEvent, IssueStatus
from app.models.base import utcnow
from tests.conftest import TEST_SECRET
from tests.factories import bearer
from tests.lifecycle.helpers import stored_issue
from tests.platform.server import CIVICLOOP, Server, clean_environment, free_port, serving
from tests.work.helpers import Office
from tests.work.sse import Message, parse

WAIT_S = 60.0  # generous: the machine is shared, and nothing here asserts a duration
SEND_TIMEOUT_S = 1.0


@contextmanager
def servers(url: str, tmp_path: Path, count: int) -> Iterator[list[Server]]:
    environment = clean_environment(
        CIVICLOOP_DATABASE_URL=url,
        CIVICLOOP_ENVIRONMENT="test",
        CIVICLOOP_SECRET_KEY=TEST_SECRET,
        CIVICLOOP_DATA_DIR=str(tmp_path / "var"),
        CIVICLOOP_LOG_FORMAT="text",
        CIVICLOOP_FEED_POLL_SECONDS="0.1",
        CIVICLOOP_FEED_HEARTBEAT_SECONDS="1",
        CIVICLOOP_FEED_SEND_TIMEOUT_SECONDS=str(SEND_TIMEOUT_S),
    )
    with ExitStack() as stack:
        started = []
        for _ in range(count):
            port = free_port()
            command = [CIVICLOOP, "serve", "--port", str(port), "--workers", "1"]
            started.append(
                stack.enter_context(serving(command, env=environment, cwd=tmp_path, port=port))
            )
        for server in started:
            server.wait_until("/readyz")
        yield started


class Stream:
    """One open feed connection, read message by message."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()

    def next(self) -> Message:
        buffered: list[str] = []
        for line in self.lines:
            buffered.append(line)
            if line == "":
                messages, _ = parse(buffered)
                if messages:
                    return messages[0]
                buffered = []  # a heartbeat
        raise AssertionError("the stream ended")


@contextmanager
def stream(server: Server, headers: dict[str, str]) -> Iterator[Stream]:
    with httpx.stream(
        "GET", f"{server.base_url}/api/v1/feed", headers=headers, timeout=WAIT_S
    ) as response:
        assert response.status_code == 200, response.read()
        yield Stream(response)


def step(server: Server, headers: dict[str, str], issue_id: str, **body: str) -> None:
    # The feed is under test, not versions: the step applies to whatever version is current.
    response = httpx.post(
        f"{server.base_url}/api/v1/issues/{issue_id}/transitions",
        headers={**headers, "If-Match": "*"},
        json=body,
    )
    assert response.status_code == 200, response.text


def test_a_browser_reconnecting_to_another_process_gets_what_it_missed_then_live_events(
    database_url: str, settings: Settings, office: Office, tmp_path: Path
) -> None:
    with servers(database_url, tmp_path, 2) as (first, second):
        agent = bearer(settings, office.agent)
        citizen = bearer(settings, office.reporter)
        with stream(first, agent) as live:
            report = httpx.post(
                f"{second.base_url}/api/v1/issues",
                headers=citizen,
                json={
                    "category": "pothole",
                    "title": "Hole",
                    "latitude": 13.72,
                    "longitude": 100.52,
                },
            )
            assert report.status_code == 201, report.text
            issue_id = report.json()["id"]
            # Reported through the other process: the database is the feed's only source.
            got = live.next()
            assert (got.data["action"], got.data["issue"]["id"]) == ("reported", issue_id)
            last_id = got.id
        assert last_id is not None

        # While disconnected, the issue is claimed and started.
        step(second, agent, issue_id, action="claim")
        step(second, agent, issue_id, action="start")

        with stream(second, {**agent, "Last-Event-ID": last_id}) as resumed:
            missed = [resumed.next(), resumed.next()]
            assert [m.data["action"] for m in missed] == ["claimed", "started"]
            assert [int(m.id or 0) for m in missed] == sorted(int(m.id or 0) for m in missed)
            assert int(missed[0].id or 0) > int(last_id)
            step(first, agent, issue_id, action="resolve", resolution="fixed")
            live_event = resumed.next()
            assert live_event.data["action"] == "resolved"
            assert live_event.data["issue"]["status"] == IssueStatus.resolved


def add_events(database: Database, issue_id: str, count: int) -> None:
    """Many events at once, straight into the database (as a busy city would write them)."""
    issue_pk = stored_issue(database, issue_id).id
    with database.session(write=True) as session, session.begin():
        now = utcnow()
        session.execute(
            insert(IssueEvent),
            [
                {
                    "issue_id": issue_pk,
                    "created_at": now,
                    "action": "edited",
                    "actor_role": "system",
                    "to_status": "open",
                    "note": f"edit {n} " + "x" * 200,
                    "is_public": True,
                }
                for n in range(count)
            ],
        )


def test_a_client_that_never_reads_is_dropped_and_blocks_no_one(
    database_url: str, database: Database, settings: Settings, office: Office, tmp_path: Path
) -> None:
    with servers(database_url, tmp_path, 1) as (server,):
        admin = bearer(settings, office.admin)
        report = httpx.post(
            f"{server.base_url}/api/v1/issues",
            headers=bearer(settings, office.reporter),
            json={"category": "pothole", "title": "Hole", "latitude": 13.72, "longitude": 100.52},
        )
        assert report.status_code == 201, report.text
        issue_id = report.json()["id"]
        # 25,000 events of ~0.5-1 kB each: far more than the socket buffers between the ends hold.
        add_events(database, issue_id, 25_000)

        stuck = socket.create_connection(("127.0.0.1", int(server.base_url.rsplit(":", 1)[1])))
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        request = (
            "GET /api/v1/feed?last_event_id=0 HTTP/1.1\r\nHost: test\r\n"
            f"Authorization: {admin['Authorization']}\r\n\r\n"
        )
        stuck.sendall(request.encode())
        try:
            # While it hangs, the server answers others, feed included.
            assert httpx.get(f"{server.base_url}/healthz", timeout=WAIT_S).status_code == 200
            with stream(server, admin) as other:
                step(server, bearer(settings, office.agent), issue_id, action="claim")
                assert other.next().data["action"] == "claimed"
            # Its send times out and it is dropped.
            deadline = time.monotonic() + WAIT_S
            while "dropped a client that stopped reading" not in server.output():
                assert time.monotonic() < deadline, server.output()[-3000:]
                time.sleep(0.2)
            # The connection is closed: what was in flight drains, then end of stream, long
            # before the whole replay it asked for.
            stuck.settimeout(WAIT_S)
            stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # drain it quickly
            received = 0
            while chunk := stuck.recv(65536):
                received += len(chunk)
            assert 0 < received < 10_000_000
            assert server.process.poll() is None
            assert httpx.get(f"{server.base_url}/healthz", timeout=WAIT_S).status_code == 200
        finally:
            stuck.close()
