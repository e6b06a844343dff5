"""A real server for the tests of the connection itself: `civicloop serve` (uvicorn with
httptools) and uvicorn's h11 protocol with the same deadlines, each on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from uvicorn.server import Server as UvicornServer

from app.config import Settings, get_settings
from app.http.server import H11HeaderDeadline
from tests.conftest import TEST_SECRET, AppFor
from tests.platform.server import CIVICLOOP, clean_environment, free_port, serving

HEADER_DEADLINE_S = 2.0
BODY_DEADLINE_S = 1.0


@dataclass(frozen=True)
class Listening:
    port: int
    parser: str  # which uvicorn HTTP implementation serves


@pytest.fixture(params=["civicloop serve", "h11"])
def listening(
    request: pytest.FixtureRequest,
    database_url: str,
    tmp_path: Path,
    settings: Settings,
    app_for: AppFor,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Listening]:
    port = free_port()
    if request.param == "civicloop serve":
        env = clean_environment(
            CIVICLOOP_ENVIRONMENT="test",
            CIVICLOOP_DATABASE_URL=database_url,
            CIVICLOOP_SECRET_KEY=TEST_SECRET,
            CIVICLOOP_DATA_DIR=str(tmp_path / "var"),
            CIVICLOOP_AUTO_MIGRATE="false",
            CIVICLOOP_LOG_FORMAT="text",
            CIVICLOOP_HEADER_TIMEOUT_SECONDS=str(HEADER_DEADLINE_S),
            CIVICLOOP_BODY_TIMEOUT_SECONDS=str(BODY_DEADLINE_S),
        )
        args = [CIVICLOOP, "serve", "--port", str(port)]
        with serving(args, env=env, cwd=tmp_path, port=port) as server:
            server.wait_until("/healthz")
            yield Listening(port, "httptools")
            assert "Traceback" not in server.output(), server.output()
        return
    # The protocol reads its deadline from the environment, as in every `serve` worker.
    monkeypatch.setenv("CIVICLOOP_HEADER_TIMEOUT_SECONDS", str(HEADER_DEADLINE_S))
    get_settings.cache_clear()
    config = uvicorn.Config(
        app_for(settings.model_copy(update={"body_timeout_seconds": BODY_DEADLINE_S})),
        host="127.0.0.1",
        port=port,
        http=H11HeaderDeadline,
        lifespan="off",
        log_level="warning",
    )
    in_thread = UvicornServer(config)
    thread = threading.Thread(target=in_thread.run, daemon=True)
    thread.start()
    try:
        while not in_thread.started:
            assert thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        yield Listening(port, "h11")
    finally:
        in_thread.should_exit = True
        thread.join(timeout=30)
        get_settings.cache_clear()
