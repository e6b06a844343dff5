"""Fixtures for the repeat-report tests: the lifecycle tests' small city, and categories of the
same group as its potholes and of another group."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from app.models import Category
from tests.factories import make_category
from tests.lifecycle.helpers import City, build_city


@dataclass(frozen=True)
class Catalogue:
    pothole: Category  # group "roads", the city's category
    footpath: Category  # group "roads" too: related
    streetlight: Category  # group "lighting": unrelated


def in_group(db: Session, code: str, group: str) -> Category:
    category = make_category(db, code)
    category.group = group
    db.commit()
    return category


@pytest.fixture
def city(db: Session) -> City:
    return build_city(db)


@pytest.fixture
def catalogue(db: Session, city: City) -> Catalogue:
    footpath = in_group(db, "footpath", "roads")
    streetlight = in_group(db, "streetlight", "lighting")
    return Catalogue(pothole=city.category, footpath=footpath, streetlight=streetlight)
