"""Fixtures for the agency-work tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.work.helpers import Office, build_office


@pytest.fixture
def office(db: Session) -> Office:
    return build_office(db)
