"""Fixtures for the query tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.db import Database
from tests.queries.catalogue import Catalogue, build_catalogue


@pytest.fixture
def catalogue(db: Session, database: Database) -> Catalogue:
    return build_catalogue(db, database)
