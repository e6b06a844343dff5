"""Fixtures for the spatial tests: agencies are added over HTTP, as an admin would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Category, Role
from tests.factories import bearer, make_category, make_user

AddAgency = Callable[[str, dict[str, Any]], Awaitable[httpx.Response]]


@pytest.fixture
def category(db: Session) -> Category:
    return make_category(db, "pothole")


@pytest.fixture
def add_agency(
    client: httpx.AsyncClient, db: Session, settings: Settings, category: Category
) -> AddAgency:
    """POST /agencies with this slug and jurisdiction, handling `category`."""
    headers = bearer(settings, make_user(db, Role.admin))

    async def add(slug: str, jurisdiction: dict[str, Any]) -> httpx.Response:
        return await client.post(
            "/api/v1/agencies",
            headers=headers,
            json={
                "slug": slug,
                "name_th": f"หน่วยงาน {slug}",
                "name_en": f"Agency {slug}",
                "categories": [category.code],
                "jurisdiction": jurisdiction,
            },
        )

    return add
