"""Fixtures for the routing tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from tests.routing.town import Town, build_town


@pytest.fixture
def town(db: Session, settings: Settings) -> Town:
    return build_town(db, settings)
