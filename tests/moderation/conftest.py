"""Fixtures for the moderation tests: the lifecycle tests' small city."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.lifecycle.helpers import City, build_city


@pytest.fixture
def city(db: Session) -> City:
    return build_city(db)
