"""Stories in a real browser: Debian's Chromium driven by Playwright, against the app served by a
real uvicorn on a loopback port (real HTTP, real cookies), one browser for the whole session.

The browser reaches nothing but that server: every other request is refused, as when the map
tiles cannot load and as a check that no page needs a CDN. E-mail goes to a real SMTP server
(aiosmtpd) on loopback. Run alone: `.venv/bin/pytest --db=sqlite tests/browser` (the suite in
`make test` runs them on both databases)."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, Request, Route, async_playwright
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Agency, Category, Role, User
from tests.conftest import TEST_SECRET, AppFor, Apps
from tests.factories import WEST_DISTRICT, make_agency, make_category, make_district, make_user
from tests.notifications.receivers import SmtpServer, free_port

CHROMIUM = "/usr/bin/chromium"
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
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
TILES = "https://tiles.invalid/{z}/{x}/{y}.png"
START_TIMEOUT_S = 60.0


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    # The async API, on the session's event loop: the sync one would hold a running loop in
    # this thread for the whole session, and every async test after it would fail.
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def live_settings(database_url: str, data_dir: Path, port: int, smtp: SmtpServer) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        data_dir=data_dir,
        secret_key=TEST_SECRET,
        public_base_url=f"http://127.0.0.1:{port}",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="civicloop <loop@city.example>",
        tile_url=TILES,
        feed_poll_seconds=0.2,
        feed_max_seconds=30,
        _env_file=None,
    )


class LiveServer:
    """uvicorn serving an app on a thread of this process (the test's database and state)."""

    def __init__(self, app: FastAPI, port: int) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)
        self.base_url = f"http://127.0.0.1:{port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            assert self.thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def _server(live_settings: Settings, _apps: Apps, port: int) -> Iterator[LiveServer]:
    app = _apps.get(live_settings)
    server = LiveServer(app, port).start()
    yield server
    server.stop()


@pytest.fixture
def live(_server: LiveServer, live_settings: Settings, app_for: AppFor, smtp: SmtpServer) -> str:
    """The served app's address, with state of this test's own and an empty inbox."""
    app_for(live_settings)
    smtp.messages.clear()
    return _server.base_url


@dataclass
class Blocked:
    """Requests the browser tried outside the test server (refused, as without internet)."""

    urls: list[str] = field(default_factory=list)


@pytest.fixture
def blocked() -> Blocked:
    return Blocked()


@pytest.fixture
async def contexts(
    chromium: Browser, live: str, blocked: Blocked
) -> AsyncIterator[list[BrowserContext]]:
    """Browser contexts made with `new_context(contexts)`: each a separate person's browser."""
    made: list[BrowserContext] = []
    yield made
    for context in made:
        await context.close()


async def new_context(
    contexts: list[BrowserContext],
    chromium: Browser,
    live: str,
    blocked: Blocked,
    *,
    locale: str = "en-GB",
) -> BrowserContext:
    context = await chromium.new_context(
        base_url=live, locale=locale, viewport={"width": 1200, "height": 900}
    )

    async def only_our_server(route: Route, request: Request) -> None:
        if request.url.startswith(live + "/"):
            await route.continue_()
        else:
            blocked.urls.append(request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_our_server)
    contexts.append(context)
    return context


class Person:
    """One person's browser: its page, and what went wrong on it (script errors, CSP refusals)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )

    async def axe_violations(self) -> list[str]:
        """axe-core's serious and critical WCAG violations on the page as it is now."""
        await self.page.evaluate(AXE)
        found: list[dict[str, object]] = await self.page.evaluate(
            """async () => {
                const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
                const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
                return result.violations
                    .filter(v => v.impact === "serious" || v.impact === "critical")
                    .map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(" "))}));
            }"""
        )
        return [f"{v['id']}: {v['nodes']}" for v in found]


MakePerson = Callable[..., Awaitable[Person]]


@pytest.fixture
def person(
    contexts: list[BrowserContext], chromium: Browser, live: str, blocked: Blocked
) -> MakePerson:
    """Another person's browser (its own cookies), in `locale` (en-GB unless told)."""

    async def make(locale: str = "en-GB") -> Person:
        context = await new_context(contexts, chromium, live, blocked, locale=locale)
        return Person(await context.new_page())

    return make


@dataclass(frozen=True)
class BrowserCity:
    category: Category
    agency: Agency
    clerk: User
    resident: User


@pytest.fixture
def browser_city(db: Session) -> BrowserCity:
    category = make_category(db, "streetlight")
    agency = make_agency(db, bounds=WEST_DISTRICT, categories=[category], slug="west")
    make_district(db, "west", WEST_DISTRICT)
    return BrowserCity(
        category=category,
        agency=agency,
        clerk=make_user(db, Role.agent, agency=agency, email="clerk@city.example"),
        resident=make_user(db, email="resident@example.org"),
    )
