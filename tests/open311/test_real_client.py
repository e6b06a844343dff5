"""A real, independently written Open311 client (the `georeport` package from PyPI, which uses
requests and xmltodict) against civicloop served by uvicorn on a loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from georeport import GeoReport

from app.config import Settings
from tests.open311.conftest import JURISDICTION, Open311City
from tests.open311.helpers import request_form
from tests.platform.server import START_TIMEOUT_S

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "CIVICLOOP_DATABASE_URL": settings.database_url,
        "CIVICLOOP_SECRET_KEY": settings.secret_key,
        "CIVICLOOP_TIMEZONE": settings.timezone,
        "CIVICLOOP_OPEN311_JURISDICTION_ID": settings.open311_jurisdiction_id,
        "CIVICLOOP_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    # requests (inside the client) would otherwise honour proxy variables.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    try:
        with httpx.Client(base_url=base, trust_env=False) as probe:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                assert process.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "the server did not start"
                try:
                    if probe.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        yield f"{base}/open311/v2"
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_a_real_open311_client_lists_defines_and_reads_requests(
    server: str, city: Open311City, output_format: str
) -> None:
    with httpx.Client(trust_env=False) as http:
        created = http.post(
            f"{server}/requests.{output_format}",
            data=request_form(city.api_key, jurisdiction_id=JURISDICTION),
        )
    assert created.status_code == 201, created.text

    client = GeoReport(server, jurisdiction=JURISDICTION, output_format=output_format)
    services = client.get_service_list()
    assert {s["service_code"] for s in services} == {"pothole", "streetlight"}
    definition = client.get_service_definition("pothole")
    attributes = definition["attributes"]
    # xmltodict nests repeated elements one level down, JSON does not: both are the spec's shape.
    attribute_list = attributes if output_format == "json" else attributes["attribute"]
    assert attribute_list[0]["code"] == "size"

    requests = client.get_service_requests(status="open", service_code="pothole")
    # xmltodict gives a single <request> as a dict rather than a one-item list.
    first = requests[0] if isinstance(requests, list) else requests
    request_id = first["service_request_id"]
    one = client.get_service_request(request_id)
    assert one["service_code"] == "pothole"
    assert one["status"] == "open"
    assert float(one["lat"]) == pytest.approx(13.72)
