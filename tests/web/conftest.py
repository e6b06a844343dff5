"""The pages over HTTP (in process): a browser-like client that keeps cookies, and a small city."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.models import Agency, Category, Role, User
from tests.factories import (
    CITY,
    WEST_DISTRICT,
    make_agency,
    make_category,
    make_district,
    make_user,
)


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Like a browser: keeps cookies (the pages' are Secure, hence https), follows nothing."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as client:
        yield client


@dataclass(frozen=True)
class Town:
    category: Category
    west: Agency
    clerk: User
    resident: User


@pytest.fixture
def town(db: Session) -> Town:
    category = make_category(db, "streetlight")
    west = make_agency(db, bounds=WEST_DISTRICT, categories=[category], slug="west")
    make_district(db, "west", WEST_DISTRICT)
    make_district(db, "city", CITY)
    return Town(category, west, make_user(db, Role.agent, agency=west), make_user(db))


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "the page has no form token"
    return found[1]


def field_of(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, f"the page has no {name} field"
    return found[1]


class VisibleText(HTMLParser):
    """What a reader sees or hears of a page: text outside scripts, and the labels of
    controls and images (alt, aria-label, placeholder, title)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("alt", "aria-label", "placeholder", "title") and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.texts)
