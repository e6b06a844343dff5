"""Apps with the abuse limits on (the test environment has them off), small allowances, and
clients calling from chosen addresses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.db import Database
from app.http.limits import Action
from app.main import create_app

# Every allowance of these tests unless a test widens one: two requests, then 429. Per year: the
# sliding-window counter's windows are aligned to the clock, and a test that straddled an edge
# would see its count partly forgotten.
ALLOWANCE = 2
GENEROUS = "1000/year"
AppWith = Callable[[Settings], FastAPI]
ClientAt = Callable[..., httpx.AsyncClient]


def limits_on(settings: Settings, **update: Any) -> Settings:
    """`settings` with the limits on, every allowance ALLOWANCE per subject and per address."""
    allowances: dict[str, Any] = {}
    for action in Action:
        allowances[f"rate_limit_{action}"] = f"{ALLOWANCE}/year"
        allowances[f"rate_limit_{action}_ip"] = f"{ALLOWANCE}/year"
    return settings.model_copy(update={"rate_limits_enabled": True, **allowances, **update})


@pytest.fixture
def limited_settings(settings: Settings) -> Settings:
    return limits_on(settings)


@pytest.fixture
def app_with(database: Database) -> Iterator[AppWith]:
    """Builds apps on the test database; each is shut down after the test."""
    with ExitStack() as stack:

        def build(settings: Settings) -> FastAPI:
            app = create_app(settings, database)
            stack.callback(app.state.photo_workers.shutdown, wait=True)
            return app

        yield build


@pytest.fixture
def limited_app(app_with: AppWith, limited_settings: Settings) -> FastAPI:
    return app_with(limited_settings)


@pytest.fixture
async def client_at(limited_app: FastAPI) -> AsyncIterator[ClientAt]:
    """Clients whose connections come from the address given (of the limited app, or another)."""
    async with AsyncExitStack() as stack:

        def at(address: str = "203.0.113.10", app: FastAPI = limited_app) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(address, 40_000))
            client = httpx.AsyncClient(transport=transport, base_url="http://test")
            stack.push_async_callback(client.aclose)
            return client

        yield at
