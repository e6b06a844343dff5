"""The public map's first load on a slow phone network (issue 13: ≤ 300 KB, ≤ 2 s on "Fast 3G";
`make bench-pages` measures it in Chromium): every round trip counts, so the page carries its
first view, preloads its district outlines drawn for the map's zoom, and sends its scripts as
one file."""

from __future__ import annotations

import re
from html import unescape

import httpx
from sqlalchemy.orm import Session

from app.db import Database
from app.web.assets import ASSETS, BUNDLES
from app.web.maps import DISTRICTS_ZOOM
from tests.factories import make_issue
from tests.web.conftest import Town


async def test_the_page_preloads_the_district_outlines_its_map_draws(
    browser: httpx.AsyncClient, town: Town
) -> None:
    page = (await browser.get("/")).text
    (preload,) = re.findall(r'<link rel="preload" href="([^"]+)" as="fetch" crossorigin>', page)
    # The very request map-common.js makes, or the browser would fetch the outlines twice.
    assert preload == f"/api/v1/districts?zoom={DISTRICTS_ZOOM}"
    assert f'data-districts-zoom="{DISTRICTS_ZOOM}"' in page
    outlines = await browser.get(preload)
    assert outlines.status_code == 200
    assert outlines.headers["content-type"] == "application/geo+json"
    assert [f["id"] for f in outlines.json()["features"]] == ["city", "west"]


async def test_the_page_carries_its_first_view_in_the_list_beside_the_map(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database
) -> None:
    issue = make_issue(db, database.spatial, reporter=town.resident, category=town.category)
    page = (await browser.get("/")).text
    (item,) = re.findall(rf'<li data-id="{issue.public_id}"[^>]*>', page)
    assert f'data-lon="{issue.location.lon}"' in item
    assert f'data-lat="{issue.location.lat}"' in item
    assert f'data-status="{issue.status.value}"' in item


async def test_the_map_scripts_come_as_one_compressed_file(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/")
    assert page.headers["content-encoding"] == "gzip"
    (script,) = re.findall(r'<script src="([^"]+)"', page.text)
    assert unescape(script) == ASSETS.url("bundles/map.js")
    bundle = await browser.get(script)
    assert bundle.headers["content-type"] == "text/javascript; charset=utf-8"
    assert bundle.headers["content-encoding"] == "gzip"
    # Leaflet, its marker clusters, then ours, which use them.
    parts = [ASSETS.files[name].body for name in BUNDLES["bundles/map.js"]]
    assert bundle.content == b"\n;\n".join(parts)
