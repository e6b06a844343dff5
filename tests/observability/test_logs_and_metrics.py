"""Operators can follow one request through the logs and scrape request metrics."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET


@dataclass
class Server:
    url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[Callable[[int], Server]]:
    """Start `civicloop serve` for real on the test database; stop it with SIGTERM."""
    started: list[subprocess.Popen[bytes]] = []

    def start(workers: int = 1) -> Server:
        port = _free_port()
        log = tmp_path / f"server-{port}.log"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CIVICLOOP_")},
            "CIVICLOOP_DATABASE_URL": database_url,
            "CIVICLOOP_DATA_DIR": str(tmp_path),
            "CIVICLOOP_SECRET_KEY": TEST_SECRET,
            "CIVICLOOP_AUTO_MIGRATE": "false",
            "CIVICLOOP_LOG_FORMAT": "json",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                f"{workers}",
            ],
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    return Server(url, log)
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"the server did not start:\n{log.read_text()}")

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _json_lines(log: Path) -> list[dict[str, object]]:
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines]


def test_every_response_carries_a_request_id_and_echoes_the_callers(
    serve: Callable[[int], Server],
) -> None:
    server = serve(1)
    mine = str(uuid.uuid4())
    echoed = httpx.get(f"{server.url}/api/v1/categories", headers={"X-Request-ID": mine})
    fresh = httpx.get(f"{server.url}/api/v1/categories")
    assert echoed.headers["X-Request-ID"] == mine
    assert uuid.UUID(fresh.headers["X-Request-ID"]).version == 4
    assert fresh.headers["X-Request-ID"] != mine


def test_log_lines_are_json_and_name_the_request_they_belong_to(
    serve: Callable[[int], Server],
) -> None:
    server = serve(1)
    mine = str(uuid.uuid4())
    httpx.get(f"{server.url}/api/v1/issues/NOSUCHISSUE", headers={"X-Request-ID": mine})
    time.sleep(0.5)  # let the access log line reach the file
    records = _json_lines(server.log)
    assert records, server.log.read_text()
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    access = [r for r in records if r.get("request_id") == mine]
    assert access, server.log.read_text()
    assert any("/api/v1/issues/NOSUCHISSUE" in str(r["message"]) for r in access)
    assert any(" 404" in str(r["message"]) for r in access)


def _requests_total(metrics: str, handler: str, status: str) -> float:
    pattern = re.compile(
        r"^http_requests_total\{(?P<labels>.*)\} (?P<value>[0-9.e+]+)$", re.MULTILINE
    )
    return sum(
        float(m["value"])
        for m in pattern.finditer(metrics)
        if f'handler="{handler}"' in m["labels"] and f'status="{status}"' in m["labels"]
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_metrics_count_requests_by_route_template_across_workers(
    serve: Callable[[int], Server], workers: int
) -> None:
    server = serve(workers)
    with httpx.Client(base_url=server.url) as client:
        # New connections spread the requests over the workers.
        for n in range(20):
            client.get(f"/api/v1/issues/MISSING{n}", headers={"Connection": "close"})
        metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    # One series per route template, never per id: the 20 ids add up in one counter.
    assert _requests_total(metrics.text, "/api/v1/issues/{issue_id}", "4xx") == 20
    assert "MISSING" not in metrics.text
