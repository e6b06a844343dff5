"""What the public map costs a phone: bytes on the wire for its first load and the time until its
markers and district boundaries are drawn, unthrottled and on Chrome's "Fast 3G" profile, against
the issue's budgets (300 KB compressed, 2 s), with each resource of the first load and its size.
`make bench-pages` (or `.venv/bin/python -m bench.pages --issues 200`).

The demo city on a scratch SQLite database, `--issues` reports spread over Bangkok through the
API, the real server on loopback, Debian's Chromium. Figures are printed as ratios to the
budgets; nothing here is a test."""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

from scripts.screenshots import CHROMIUM_ARGS, demo_server

BUDGET_BYTES = 300 * 1024
BUDGET_SECONDS = 2.0
# Chrome DevTools' "Fast 3G": 1.44 Mbit/s down, 675 kbit/s up, 562.5 ms round trip.
FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1_440_000 / 8,
    "uploadThroughput": 675_000 / 8,
}
CATEGORIES = ("streetlight", "pothole", "garbage", "flooding")


def _seed(base: str, issues: int, rng: random.Random) -> None:
    with httpx.Client(base_url=base, trust_env=False, timeout=30) as client:
        for n in range(issues):
            client.post(
                "/api/v1/issues",
                headers={"X-Device-Id": uuid.UUID(int=rng.getrandbits(128)).hex},
                json={
                    "category": rng.choice(CATEGORIES),
                    "title": f"Report {n}",
                    "latitude": rng.uniform(13.68, 13.85),
                    "longitude": rng.uniform(100.45, 100.70),
                },
            ).raise_for_status()


def _load(base: str, *, throttle: dict[str, Any] | None) -> tuple[dict[str, int], float]:
    """Bytes on the wire by resource (path and query), and seconds until the map has drawn."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(base_url=base)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        if throttle:
            cdp.send("Network.emulateNetworkConditions", throttle)
        urls: dict[str, str] = {}
        sizes: dict[str, int] = {}

        def sent(event: dict[str, Any]) -> None:
            urls.setdefault(event["requestId"], event["request"]["url"].removeprefix(base))

        def finished(event: dict[str, Any]) -> None:
            sizes[event["requestId"]] = int(event["encodedDataLength"])

        cdp.on("Network.requestWillBeSent", sent)
        cdp.on("Network.loadingFinished", finished)
        started = time.monotonic()
        page.goto("/")
        drawn = page.locator("#issues-map[data-markers][data-districts]")
        drawn.wait_for(state="attached", timeout=120_000)
        elapsed = time.monotonic() - started
        page.wait_for_load_state("networkidle")
        browser.close()
        return {urls[request]: size for request, size in sizes.items()}, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=200)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    with demo_server(CIVICLOOP_RATE_LIMITS_ENABLED="false") as base:
        _seed(base, args.issues, random.Random(args.seed))
        plain, plain_s = _load(base, throttle=None)
        slow, slow_s = _load(base, throttle=FAST_3G)
    plain_bytes, slow_bytes = sum(plain.values()), sum(slow.values())
    result = {
        "issues": args.issues,
        "first_load_bytes": slow_bytes,
        "bytes_vs_300KB_budget": round(slow_bytes / BUDGET_BYTES, 3),
        "unthrottled_seconds_to_markers": round(plain_s, 3),
        "fast3g_seconds_to_markers": round(slow_s, 3),
        "fast3g_vs_2s_budget": round(slow_s / BUDGET_SECONDS, 3),
        "fast3g_vs_unthrottled": round(slow_s / plain_s, 2),
        "unthrottled_bytes": plain_bytes,
        "first_load": dict(sorted(slow.items(), key=lambda item: -item[1])),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
