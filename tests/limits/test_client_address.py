"""Whose allowance a request spends: the connection's peer, or, only behind a proxy named in
CIVICLOOP_TRUSTED_PROXIES, the address that proxy forwards; IPv6 counted by /64. Requests go
through uvicorn's own proxy-headers middleware, configured as `civicloop serve` configures it."""

from __future__ import annotations

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.requests import Request

from app.cli import proxy_options
from app.config import Settings
from app.http.limits import client_address
from tests.limits.conftest import ALLOWANCE, AppWith, limits_on

PROXY = "10.0.0.5"


def _served(app: FastAPI, settings: Settings, peer: str) -> httpx.AsyncClient:
    config = uvicorn.Config(app, log_config=None, **proxy_options(settings))
    config.load()
    transport = httpx.ASGITransport(app=config.loaded_app, client=(peer, 40_000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def _spend(client: httpx.AsyncClient, forwarded_for: str) -> int:
    answer = await client.get(
        "/api/v1/exports/issues.ndjson", headers={"X-Forwarded-For": forwarded_for}
    )
    return answer.status_code


async def test_a_forwarded_address_from_an_untrusted_peer_is_ignored(
    app_with: AppWith, settings: Settings
) -> None:
    limited = limits_on(settings)
    async with _served(app_with(limited), limited, "198.51.100.50") as client:
        # Each request claims another address; all are counted against the peer.
        answers = [await _spend(client, f"192.0.2.{n}") for n in range(ALLOWANCE + 1)]
    assert answers == [200] * ALLOWANCE + [429]


async def test_a_trusted_proxy_forwards_the_client_address(
    app_with: AppWith, settings: Settings
) -> None:
    limited = limits_on(settings, trusted_proxies=[PROXY])
    async with _served(app_with(limited), limited, PROXY) as proxy:
        spent = [await _spend(proxy, "192.0.2.1") for _ in range(ALLOWANCE + 1)]
        other_client = await _spend(proxy, "192.0.2.2")
    assert spent == [200] * ALLOWANCE + [429]
    assert other_client == 200


@pytest.mark.parametrize(
    ("peer", "counted_as"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("testclient", "testclient"),
    ],
)
def test_an_address_is_counted_by_what_its_holder_controls(peer: str, counted_as: str) -> None:
    request = Request({"type": "http", "client": (peer, 1), "headers": []})
    assert client_address(request) == counted_as
