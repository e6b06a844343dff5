"""Every answer carries the security headers: an API answer is data, never a page to run, to
frame or to refer from. The API docs page alone runs scripts, our own."""

from __future__ import annotations

import httpx
import pytest

from app.http.middleware import SECURITY_HEADERS


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/categories"),  # a success
        ("GET", "/api/v1/issues/999999"),  # a domain error
        ("GET", "/no/such/path"),  # no route at all
        ("GET", "/healthz"),
        ("POST", "/api/v1/issues"),  # refused by the body rules
    ],
)
async def test_every_answer_carries_the_security_headers(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, content=b"{" if method == "POST" else None)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_the_docs_page_runs_only_our_own_scripts(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline'" in policy
    assert "http" not in policy  # no other origin, no CDN
    assert response.headers["x-content-type-options"] == "nosniff"
