"""Absolute links come only from CIVICLOOP_PUBLIC_BASE_URL, whatever Host a client sends; in
production a request naming another host is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from tests.conftest import AppFor, http_client
from tests.factories import IN_WEST, make_agency, make_category

PUBLIC = "https://civic.example.org"
FORGED = {"Host": "evil.example"}
DEVICE = {"X-Device-Id": "7d2f9c1e-3b4a-4f6e-8a5d-2c1b0e9f8a7d"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_base_url": PUBLIC})


@pytest.fixture
async def production(settings: Settings, app_for: AppFor) -> AsyncIterator[httpx.AsyncClient]:
    """The app as production runs it: the allow-list is the public URL's host."""
    production = settings.model_copy(update={"environment": "production"})
    async with http_client(app_for(production)) as client:
        yield client


async def test_a_new_issues_location_uses_the_public_url_not_the_host(
    client: httpx.AsyncClient, db: Session
) -> None:
    make_agency(db, categories=[make_category(db, "pothole")])
    db.commit()
    longitude, latitude = IN_WEST
    created = await client.post(
        "/api/v1/issues",
        headers={**FORGED, **DEVICE},
        json={"category": "pothole", "title": "Hole", "latitude": latitude, "longitude": longitude},
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{PUBLIC}/api/v1/issues/{created.json()['id']}"


async def test_problem_types_use_the_public_url(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/issues/NOSUCHISSUE", headers=FORGED)
    assert missing.status_code == 404
    assert missing.json()["type"] == f"{PUBLIC}/problems/not-found"


async def test_the_exports_link_header_uses_the_public_url(client: httpx.AsyncClient) -> None:
    export = await client.get("/api/v1/exports/issues.csv", headers=FORGED)
    assert export.status_code == 200
    assert f'<{PUBLIC}/api/v1/exports/dictionary>; rel="describedby"' in export.headers["link"]
    assert "evil.example" not in export.headers["link"]


async def test_the_open311_discovery_document_uses_the_public_url(
    client: httpx.AsyncClient,
) -> None:
    for fmt in ("json", "xml"):
        discovery = await client.get(f"/open311/discovery.{fmt}", headers=FORGED)
        assert discovery.status_code == 200
        assert f"{PUBLIC}/open311/v2" in discovery.text
        assert "evil.example" not in discovery.text


async def test_production_refuses_another_host_with_a_problem(
    production: httpx.AsyncClient,
) -> None:
    refused = await production.get("/api/v1/categories", headers=FORGED)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == f"{PUBLIC}/problems/host-not-allowed"
    assert "evil.example" in problem["detail"]
    # Thai readers are told in Thai.
    thai = await production.get("/api/v1/categories", headers={**FORGED, "Accept-Language": "th"})
    assert thai.json()["title"] == "ไม่อนุญาตชื่อโฮสต์นี้"


@pytest.mark.parametrize(
    "host", ["civic.example.org", "CIVIC.example.org", "civic.example.org:443"]
)
async def test_production_serves_its_public_host(production: httpx.AsyncClient, host: str) -> None:
    answer = await production.get("/api/v1/categories", headers={"Host": host})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("host", ["evil.example", "civic.example.org.evil.example", "", "[::1"])
async def test_production_refuses_every_other_host(
    production: httpx.AsyncClient, host: str
) -> None:
    answer = await production.get("/open311/discovery.json", headers={"Host": host})
    assert answer.status_code == 400


async def test_health_probes_answer_any_host(production: httpx.AsyncClient) -> None:
    # Orchestrators probe by address (Docker asks 127.0.0.1, Kubernetes a pod's IP).
    for probe in ("/healthz", "/readyz"):
        assert (await production.get(probe, headers={"Host": "10.0.3.7:8000"})).status_code == 200


async def test_allowed_hosts_can_be_set(settings: Settings, app_for: AppFor) -> None:
    configured = settings.model_copy(
        update={"allowed_hosts": ["api.civic.example.org", "civic.example.org"]}
    )
    async with http_client(app_for(configured)) as client:
        for host, status in (
            ("api.civic.example.org", 200),
            ("civic.example.org", 200),
            ("evil.example", 400),
        ):
            answer = await client.get("/api/v1/categories", headers={"Host": host})
            assert answer.status_code == status, host


def test_the_allow_list_defaults_to_the_public_host_in_production_only(
    settings: Settings,
) -> None:
    assert settings.host_allow_list is None  # tests and development answer any host
    production = settings.model_copy(update={"environment": "production"})
    assert production.host_allow_list == frozenset({"civic.example.org"})
    anything = production.model_copy(update={"allowed_hosts": ["*"]})
    assert anything.host_allow_list is None


@pytest.mark.parametrize("url", ["civic.example.org", "/api", "ftp://civic.example.org", ""])
def test_the_public_url_must_be_an_absolute_http_url(url: str) -> None:
    with pytest.raises(ValueError, match="CIVICLOOP_PUBLIC_BASE_URL"):
        Settings(public_base_url=url, _env_file=None)
