"""Screenshots of every page, in English and Thai: `make screenshots` (or
`.venv/bin/python -m scripts.screenshots OUT_DIR`).

Loads the demo city into a scratch SQLite database, serves it on a free loopback port, reports a
problem in Bang Rak through the report form, lets the district's agent claim it on the desk, and
saves each page as a PNG in OUT_DIR. The map shows no tiles (none are fetched: the pages need
no outside address), its boundaries and markers are drawn all the same."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BIN = Path(sys.executable).parent
AGENT = "agent.district-bang-rak@demo.civicloop.example"
DEMO_PASSWORD = "civicloop-demo"
SILOM = ("13.7262", "100.5290")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _shoot(page: Page, out: Path, name: str, path: str) -> None:
    for lang in ("en", "th"):
        page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        page.wait_for_timeout(1200)  # the map's boundaries and markers, drawn from the API
        page.screenshot(path=str(out / f"{name}-{lang}.png"), full_page=True)
        print(f"screenshots: {out / f'{name}-{lang}.png'}")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with demo_server() as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"/report?latitude={SILOM[0]}&longitude={SILOM[1]}")
        page.select_option("#category", "streetlight")
        page.fill("#title", "Street light out on Silom Soi 5")
        page.fill("#description", "Dark since Monday, by the school gate.")
        page.click("#send")
        page.wait_for_url("**/issues/**")
        issue = page.url.split("?")[0].removeprefix(base)
        _shoot(page, out, "report", "/report")
        _shoot(page, out, "issue", issue)
        _shoot(page, out, "map", "/")
        _shoot(page, out, "agencies", "/agencies")
        _shoot(page, out, "sign-in", "/sign-in")
        staff = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
        desk = staff.new_page()
        desk.goto("/sign-in?next=/desk")
        desk.fill("#email", AGENT)
        desk.fill("#password", DEMO_PASSWORD)
        desk.click("button[type=submit]")
        desk.wait_for_url("**/desk*")
        _shoot(desk, out, "desk", "/desk")
        browser.close()


@contextmanager
def demo_server(**settings: str) -> Iterator[str]:
    """`civicloop serve` on a free loopback port over a scratch SQLite database holding the demo
    city (no map tiles: the pages need no outside address); its base URL."""
    with tempfile.TemporaryDirectory() as scratch:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "CIVICLOOP_DATA_DIR": scratch,
            "CIVICLOOP_DATABASE_URL": "",
            "CIVICLOOP_PUBLIC_BASE_URL": base,
            "CIVICLOOP_TILE_URL": "",
            "CIVICLOOP_LOG_LEVEL": "WARNING",
            **settings,
        }
        civicloop = str(BIN / "civicloop")
        subprocess.run([civicloop, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([civicloop, "demo-data"], env=env, check=True, stdout=subprocess.DEVNULL)
        server = subprocess.Popen([civicloop, "serve", "--port", str(port)], env=env)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", trust_env=False).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the demo server did not start")
                time.sleep(0.3)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "var/screenshots"))
