"""Fixtures for the notification tests: the lifecycle tests' small city."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from tests.conftest import AppFor, http_client
from tests.lifecycle.helpers import City, build_city


@pytest.fixture
def city(db: Session) -> City:
    return build_city(db)


@pytest.fixture
def loopback_settings(settings: Settings) -> Settings:
    """Settings whose outbound allow-list admits the receivers these tests run on 127.0.0.1."""
    return settings.model_copy(update={"outbound_allow_list": ["127.0.0.1"]})


@pytest.fixture
async def loopback_client(
    loopback_settings: Settings, app_for: AppFor
) -> AsyncIterator[httpx.AsyncClient]:
    """The app configured with `loopback_settings`, over HTTP."""
    async with http_client(app_for(loopback_settings)) as client:
        yield client


WORKER_ENV = {
    "CIVICLOOP_ENVIRONMENT": "test",
    "CIVICLOOP_OUTBOUND_ALLOW_LIST": '["127.0.0.1"]',
    "CIVICLOOP_NOTIFY_LEASE_SECONDS": "3",
    "CIVICLOOP_NOTIFY_BACKOFF_BASE_SECONDS": "0.2",
    "CIVICLOOP_NOTIFY_BACKOFF_MAX_SECONDS": "1",
    "CIVICLOOP_NOTIFY_MAX_ATTEMPTS": "50",
    "CIVICLOOP_WORKER_POLL_SECONDS": "0.1",
    "CIVICLOOP_WORKER_BATCH_SIZE": "20",
    "CIVICLOOP_WORKER_CONCURRENCY": "4",
    "CIVICLOOP_WEBHOOK_TIMEOUT_SECONDS": "0.5",
    "CIVICLOOP_SMTP_TIMEOUT_SECONDS": "1",
    "CIVICLOOP_AUTO_CLOSE_CHECK_SECONDS": "3600",
}
Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def spawn_worker(database_url: str, settings: Settings, tmp_path: Path) -> Iterator[Spawn]:
    """Start `civicloop worker` processes on the test database; stopped after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def spawn(url: str = database_url, **extra: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            **WORKER_ENV,
            "CIVICLOOP_DATABASE_URL": url,
            "CIVICLOOP_SECRET_KEY": settings.secret_key,
            **extra,
        }
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=env,
            stdout=log,
            stderr=log,
            cwd=Path(__file__).parents[2],
        )
        started.append(process)
        return process

    yield spawn
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
