"""Bad input answers 422 with SeeClickFix's `errors` object (parameter -> messages) inside an
RFC 9457 problem, in Thai and English; missing things 404; names this surface does not know are
ignored, as SeeClickFix ignores them; too many requests 429 with Retry-After."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from tests.conftest import AppFor, http_client
from tests.seeclickfix.conftest import API, ScfCity

BAD = [
    ({"per_page": "101"}, "per_page"),
    ({"per_page": "21", "details": "true"}, "per_page"),  # at most 20 with details
    ({"per_page": "0"}, "per_page"),
    ({"page": "x"}, "page"),
    ({"status": "fixed"}, "status"),
    ({"sort": "votes"}, "sort"),
    ({"sort": "distance"}, "sort"),  # needs a point
    ({"sort_direction": "UP"}, "sort_direction"),
    ({"lat": "13.7"}, "lng"),
    ({"lat": "91", "lng": "100"}, "lat"),
    ({"lat": "13.7", "lng": "100.5", "zoom": "23"}, "zoom"),
    ({"zoom": "10"}, "zoom"),
    ({"min_lat": "13.7", "min_lng": "100.5", "max_lat": "13.8"}, "max_lng"),
    ({"min_lat": "13.8", "min_lng": "100.5", "max_lat": "13.7", "max_lng": "100.6"}, "max_lat"),
    ({"after": "yesterday"}, "after"),
    ({"after": "2026-12-01", "before": "2026-11-01"}, "before"),
    ({"request_types": "pothole"}, "request_types"),
    ({"request_types": "999999"}, "request_types"),
    ({"place_url": "atlantis"}, "place_url"),
    ({"search": "x" * 201}, "search"),
    ({"fields[issue]": "id,secret"}, "fields[issue]"),
    ({"watcher_token": "abc"}, "watcher_token"),
    ({"assigned_to_me": "true"}, "assigned_to_me"),
]


@pytest.mark.parametrize(("params", "field"), BAD)
async def test_bad_parameters_are_named_in_both_languages(
    client: httpx.AsyncClient, city: ScfCity, params: dict[str, str], field: str
) -> None:
    answers = {}
    for lang in ("en", "th"):
        response = await client.get(
            f"{API}/issues", params=params, headers={"Accept-Language": lang}
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["content-language"] == lang
        body = response.json()
        assert body["status"] == 422
        assert list(body["errors"]) == [field]
        assert all(isinstance(m, str) and m for m in body["errors"][field])
        answers[lang] = body["errors"][field][0]
    assert answers["en"] != answers["th"]
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in answers["th"])  # Thai script


async def test_unknown_parameters_are_ignored_and_empty_ones_are_absent(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    plain = (await client.get(f"{API}/issues")).json()["issues"]
    odd = await client.get(
        f"{API}/issues", params={"callback": "x", "_": "1700000000", "status": "", "page": ""}
    )
    assert odd.status_code == 200
    assert odd.json()["issues"] == plain


async def test_what_does_not_exist_is_404(client: httpx.AsyncClient, city: ScfCity) -> None:
    for path in ("/issues/12", "/places/999999", "/request_types/999999", "/users", "/issues/1/x"):
        response = await client.get(f"{API}{path}")
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"] == {}


async def test_too_many_requests_say_when_to_come_back(
    settings: Settings, app_for: AppFor, city: ScfCity
) -> None:
    limited: FastAPI = app_for(
        settings.model_copy(
            update={"rate_limits_enabled": True, "rate_limit_seeclickfix_ip": "2/minute"}
        )
    )
    async with http_client(limited) as client:
        for _ in range(2):
            assert (await client.get(f"{API}/places")).status_code == 200
        refused = await client.get(f"{API}/issues")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    body = refused.json()
    assert body["message"] == "Too Many Requests"
    assert body["documentation_url"].startswith("https://city.example/")


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"headers": {"Authorization": "Bearer not-a-token"}}, 401),
        ({"params": {"search": "pot\x00hole"}}, 422),
    ],
)
async def test_other_refusals_have_the_same_shape(
    client: httpx.AsyncClient, city: ScfCity, request_args: dict[str, Any], status: int
) -> None:
    response = await client.get(f"{API}/issues", **request_args)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["errors"], dict)
    assert body["detail"]
