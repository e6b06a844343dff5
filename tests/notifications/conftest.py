"""Fixtures for the notification tests: the lifecycle tests' small city."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.main import create_app
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
    loopback_settings: Settings, database: Database
) -> AsyncIterator[httpx.AsyncClient]:
    """The app configured with `loopback_settings`, over HTTP."""
    transport = httpx.ASGITransport(app=create_app(loopback_settings, database))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
