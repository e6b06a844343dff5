"""Fixtures for the account tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Role, User
from tests.factories import bearer, make_user


@pytest.fixture
def admin(db: Session) -> User:
    return make_user(db, Role.admin)


@pytest.fixture
def admin_headers(admin: User, settings: Settings) -> dict[str, str]:
    return bearer(settings, admin)
