"""Operators can follow one request through the logs and scrape request metrics."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.conftest import TEST_SECRET
from tests.platform.server import CIVICLOOP, Server, clean_environment, free_port, serving

StartServer = Callable[[int], Server]
METRICS_TOKEN = "scraper-token-0123456789abcdef"
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[StartServer]:
    """`civicloop serve` for real on the suite's (already migrated) database."""
    with ExitStack() as stack:

        def start(workers: int) -> Server:
            port = free_port()
            env = clean_environment(
                CIVICLOOP_DATABASE_URL=database_url,
                CIVICLOOP_DATA_DIR=str(tmp_path),
                CIVICLOOP_SECRET_KEY=TEST_SECRET,
                CIVICLOOP_AUTO_MIGRATE="false",
                CIVICLOOP_LOG_FORMAT="json",
                CIVICLOOP_METRICS_TOKEN=METRICS_TOKEN,
            )
            args = [CIVICLOOP, "serve", "--port", str(port), "--workers", str(workers)]
            server = stack.enter_context(serving(args, env=env, cwd=tmp_path, port=port))
            server.wait_until("/readyz")
            return server

        yield start


def _log_records(server: Server) -> list[dict[str, object]]:
    return [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]


def test_every_response_carries_a_request_id_and_echoes_the_callers(serve: StartServer) -> None:
    server = serve(1)
    mine = str(uuid.uuid4())
    echoed = httpx.get(f"{server.base_url}/api/v1/categories", headers={"X-Request-ID": mine})
    fresh = httpx.get(f"{server.base_url}/api/v1/categories")
    assert echoed.headers["X-Request-ID"] == mine
    assert uuid.UUID(fresh.headers["X-Request-ID"]).version == 4
    assert fresh.headers["X-Request-ID"] != mine


def test_log_lines_are_json_and_name_the_request_they_belong_to(serve: StartServer) -> None:
    server = serve(1)
    mine = str(uuid.uuid4())
    httpx.get(f"{server.base_url}/api/v1/issues/NOSUCHISSUE", headers={"X-Request-ID": mine})
    assert server.terminate() == 0  # flushes the log
    records = _log_records(server)
    assert records, server.output()
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    access = [r for r in records if r.get("request_id") == mine]
    assert any(
        "/api/v1/issues/NOSUCHISSUE" in str(r["message"]) and " 404" in str(r["message"])
        for r in access
    ), server.output()


def _requests_total(metrics: str, handler: str, status: str) -> float:
    series = re.compile(r"^http_requests_total\{(?P<labels>.*)\} (?P<value>[0-9.e+]+)$", re.M)
    return sum(
        float(m["value"])
        for m in series.finditer(metrics)
        if f'handler="{handler}"' in m["labels"] and f'status="{status}"' in m["labels"]
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_metrics_count_requests_by_route_template_across_workers(
    serve: StartServer, workers: int
) -> None:
    server = serve(workers)
    with httpx.Client(base_url=server.base_url) as client:
        # New connections spread the requests over the workers.
        for n in range(20):
            client.get(f"/api/v1/issues/MISSING{n}", headers={"Connection": "close"})
        metrics = client.get("/metrics", headers=SCRAPER)
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    # One series per route template, never per id: the 20 ids add up in one counter.
    assert _requests_total(metrics.text, "/api/v1/issues/{issue_id}", "4xx") == 20
    assert "MISSING" not in metrics.text


@pytest.fixture
def metrics_app(settings: Settings, database: Database) -> Iterator[FastAPI]:
    app = create_app(
        settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)}), database
    )
    yield app
    app.state.photo_workers.shutdown(wait=True)


async def _get_metrics(app: FastAPI, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/metrics", headers=headers)


async def test_metrics_are_served_to_the_bearer_of_the_metrics_token(
    metrics_app: FastAPI,
) -> None:
    response = await _get_metrics(metrics_app, SCRAPER)
    assert response.status_code == 200
    assert "# HELP http_requests_total" in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {METRICS_TOKEN}x"},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
        {"X-API-Key": METRICS_TOKEN},
    ],
    ids=["none", "wrong", "longer", "other-scheme", "api-key-header"],
)
async def test_metrics_refuse_any_other_caller_with_401(
    metrics_app: FastAPI, headers: dict[str, str]
) -> None:
    response = await _get_metrics(metrics_app, headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "# HELP" not in response.text


async def test_metrics_do_not_exist_when_no_token_is_configured(
    client: httpx.AsyncClient,
) -> None:
    for headers in ({}, {"Authorization": "Bearer "}, SCRAPER):
        response = await client.get("/metrics", headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
