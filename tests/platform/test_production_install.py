"""`pip install civicloop` without extras, run as production: the API and the worker start from
that install alone, and a follower's e-mail goes out through a real SMTP server."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.notifications.receivers import SmtpServer
from tests.platform.dockerfile import copied_sources
from tests.platform.server import clean_environment, free_port, run, serving

pytestmark = pytest.mark.slow
SECRET = "production-install-secret-0123456789abcdefghij"
PASSWORD = "Tamarind-kettle-47-monsoon"
DEVICE = "0c9e4b1a-5f2d-4e8a-b7c6-3d1f2a9e8b70"
WEST = {
    "type": "Polygon",
    "coordinates": [
        [[100.50, 13.70], [100.55, 13.70], [100.55, 13.75], [100.50, 13.75], [100.50, 13.70]]
    ],
}
DELIVERY_TIMEOUT_S = 90.0


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the project installed from what the Docker image
    copies, with `pip install <dir>` and no extras: its bin/ directory. One install per run:
    the first pytest-xdist worker to need it installs under a file lock, the others reuse it."""
    base = tmp_path_factory.getbasetemp()
    # Each xdist worker's temporary directory lies inside the run's own.
    run_root = base.parent if "PYTEST_XDIST_WORKER" in os.environ else base
    root = run_root / "production-install"
    with (run_root / "production-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "installed").exists():
            shutil.rmtree(root, ignore_errors=True)  # what an interrupted install left
            _install(root)
            (root / "installed").touch()
    return root / "venv" / "bin"


def _install(root: Path) -> None:
    source = root / "src"
    for path, target in copied_sources():
        if path.is_dir():
            shutil.copytree(path, source / target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (source / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, source / target)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # The registry (or pip's own configuration and cache) as a user's pip would use it.
    pip_environment = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(source)],
        env=clean_environment(**pip_environment),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def sqlite_only(db_kind: str) -> None:
    if db_kind != "sqlite":
        pytest.skip("the install runs on its embedded SQLite database: the sqlite leg runs this")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.mark.usefixtures("sqlite_only")
def test_every_module_imports_from_a_production_install(installed: Path, tmp_path: Path) -> None:
    # Outside the project directory: only the installed package can be imported.
    script = (
        "import importlib, pkgutil, app, migrations\n"
        "for m in pkgutil.walk_packages(app.__path__, 'app.'): importlib.import_module(m.name)\n"
        "print(app.__file__)"
    )
    result = run([str(installed / "python"), "-c", script], env=clean_environment(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "site-packages" in result.stdout
    dev_only = run(
        [str(installed / "python"), "-c", "import pytest"], env=clean_environment(), cwd=tmp_path
    )
    assert dev_only.returncode != 0, "the development extras were installed too"


@pytest.mark.usefixtures("sqlite_only")
def test_the_installed_api_and_worker_deliver_a_followers_email(
    installed: Path, smtp: SmtpServer, tmp_path: Path
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    environment = clean_environment(
        PATH=f"{installed}{os.pathsep}{os.environ.get('PATH', '')}",
        CIVICLOOP_ENVIRONMENT="production",
        CIVICLOOP_SECRET_KEY=SECRET,
        CIVICLOOP_PUBLIC_BASE_URL=public,
        CIVICLOOP_DATA_DIR=str(tmp_path / "data"),
        CIVICLOOP_SMTP_HOST="127.0.0.1",
        CIVICLOOP_SMTP_PORT=str(smtp.port),
        CIVICLOOP_SMTP_FROM="civicloop <loop@city.example>",
        CIVICLOOP_WORKER_POLL_SECONDS="0.2",
    )
    civicloop = str(installed / "civicloop")
    with serving(
        [civicloop, "serve", "--port", str(port)], env=environment, cwd=tmp_path, port=port
    ) as api:
        # The API migrated the new SQLite database itself.
        assert api.wait_until("/readyz").json() == {"status": "ok", "database": "sqlite"}
        admin = run(
            [civicloop, "create-admin", "--email", "admin@city.example"],
            env={**environment, "CIVICLOOP_ADMIN_PASSWORD": PASSWORD},
            cwd=tmp_path,
        )
        assert admin.returncode == 0, admin.stderr
        with httpx.Client(base_url=f"{public}/api/v1", timeout=30) as client:
            issue_id = city_story(client)
        with serving(
            [civicloop, "worker"], env=environment, cwd=tmp_path, port=free_port()
        ) as worker:
            deadline = time.monotonic() + DELIVERY_TIMEOUT_S
            while not [m for m in smtp.messages if m["To"] == "admin@city.example"]:
                assert worker.process.poll() is None, worker.output()
                assert time.monotonic() < deadline, f"no e-mail delivered:\n{worker.output()}"
                time.sleep(0.3)
            assert worker.terminate() == 0, worker.output()
        assert api.terminate() == 0, api.output()
    told = next(m for m in smtp.messages if m["To"] == "admin@city.example")
    assert f"{public}/issues/{issue_id}" in told.get_content()
    assert "sent" in worker.output()


def login(client: httpx.Client, email: str) -> dict[str, str]:
    answer = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def city_story(client: httpx.Client) -> str:
    """An admin sets up a category and an agency with an agent; a device reports, the admin
    follows the report, the agent claims it. The report's id."""
    admin = login(client, "admin@city.example")
    created = client.post(
        "/categories",
        headers=admin,
        json={
            "code": "streetlight",
            "group": "lights",
            "name_th": "ไฟถนน",
            "name_en": "Street light",
            "acknowledge_target_hours": 24,
            "resolve_target_hours": 72,
        },
    )
    assert created.status_code == 201, created.text
    agency = client.post(
        "/agencies",
        headers=admin,
        json={
            "slug": "west",
            "name_th": "เขตตะวันตก",
            "name_en": "West district",
            "categories": ["streetlight"],
            "jurisdiction": WEST,
        },
    )
    assert agency.status_code == 201, agency.text
    agent = client.post(
        "/users",
        headers=admin,
        json={
            "email": "agent@city.example",
            "password": PASSWORD,
            "display_name": "West agent",
            "role": "agent",
            "agency_id": agency.json()["id"],
        },
    )
    assert agent.status_code == 201, agent.text

    reported = client.post(
        "/issues",
        headers={"X-Device-Id": DEVICE},
        json={
            "category": "streetlight",
            "title": "Lamp out by the market",
            "latitude": 13.72,
            "longitude": 100.52,
        },
    )
    assert reported.status_code == 201, reported.text
    issue_id: str = reported.json()["id"]
    followed = client.post(f"/issues/{issue_id}/follow", headers=admin)
    assert followed.status_code == 200, followed.text
    claimed = client.post(
        f"/issues/{issue_id}/transitions",
        headers={**login(client, "agent@city.example"), "If-Match": reported.headers["ETag"]},
        json={"action": "claim"},
    )
    assert claimed.status_code == 200, claimed.text
    return issue_id
