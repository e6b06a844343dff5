"""docker-compose.yml and the Dockerfile describe the production shape, and the commands they
run really work: no Docker engine runs here, so the same commands run natively on PostGIS."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import make_url

from app.db import Database
from app.dbmigrate import pending_migrations
from tests.platform.conftest import NewDatabase
from tests.platform.dockerfile import ROOT, dockerfile_instructions, image_environment
from tests.platform.server import clean_environment, free_port, run, serving

COMPOSE_FILE = ROOT / "docker-compose.yml"
SECRET = "compose-test-secret-0123456789abcdefghijklmnop"
# The Redis the suite provisions (scripts/ensure-tools.sh) stands in for the compose service.
LOCAL_REDIS_URL = os.environ.get("CIVICLOOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PUBLIC_HOST = "civic.example.org"
REQUIRED = {
    "CIVICLOOP_SECRET_KEY": SECRET,
    "POSTGRES_PASSWORD": "compose-test-password",
    "CIVICLOOP_PUBLIC_BASE_URL": f"https://{PUBLIC_HOST}",
}


def docker_compose() -> str:
    found = shutil.which("docker-compose")
    # A missing tool must fail CI, not skip: `make test` installs it (scripts/ensure-tools.sh).
    assert found, "docker-compose is not installed: run scripts/ensure-tools.sh (make tools)"
    return found


def compose_config(**variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [docker_compose(), "--file", str(COMPOSE_FILE), "--project-directory", str(ROOT), "config"],
        env=clean_environment(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )


def resolved_services(**variables: str) -> dict[str, Any]:
    """The services as docker-compose resolves them: validated, variables substituted."""
    result = compose_config(**{**REQUIRED, **variables})
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    return services


def shell_command(test: list[str]) -> str:
    """A CMD-SHELL healthcheck as the container's shell gets it (`$$` is compose's `$`)."""
    assert test[0] == "CMD-SHELL", test
    return test[1].replace("$$", "$")


def test_compose_file_is_valid_and_needs_the_secrets() -> None:
    assert compose_config(**REQUIRED).returncode == 0
    for missing in REQUIRED:
        rest = {k: v for k, v in REQUIRED.items() if k != missing}
        result = compose_config(**rest)
        assert result.returncode != 0
        assert missing in result.stderr


def test_compose_runs_postgis_then_a_one_shot_migration_then_the_api() -> None:
    services = resolved_services(CIVICLOOP_WORKERS="3", CIVICLOOP_REPLY_DOMAIN="reply.example.org")
    assert set(services) == {"db", "redis", "migrate", "api", "worker", "mail-in"}

    db = services["db"]
    assert db["image"] == "postgis/postgis:15-3.4"
    assert "pg_isready" in shell_command(db["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data:rw") for v in db["volumes"])

    migrate = services["migrate"]
    assert migrate["command"] == ["civicloop", "migrate"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"

    api = services["api"]
    assert api["command"][:2] == ["civicloop", "serve"]
    # Inside its container the API must listen on every interface to be reachable.
    assert api["command"][api["command"].index("--host") + 1] == "0.0.0.0"  # noqa: S104
    assert api["command"][api["command"].index("--workers") + 1] == "3"
    assert api["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "redis": {"condition": "service_healthy"},
    }
    # Several API processes share one count of every rate limit.
    assert make_url(api["environment"]["CIVICLOOP_REDIS_URL"]).host == "redis"
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert "/readyz" in shell_command(api["healthcheck"]["test"])

    worker = services["worker"]
    assert worker["command"] == ["civicloop", "worker"]
    assert worker["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}

    # Replies to the worker's e-mails (Reply-To: the reply domain) come back through mail-in.
    mail_in = services["mail-in"]
    assert mail_in["command"][:2] == ["civicloop", "mail-in"]
    assert mail_in["command"][mail_in["command"].index("--host") + 1] == "0.0.0.0"  # noqa: S104
    assert mail_in["command"][mail_in["command"].index("--port") + 1] == "2525"
    assert mail_in["profiles"] == ["mail-in"]  # opt-in: it needs the reply domain
    assert mail_in["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert [(p["published"], p["target"]) for p in mail_in["ports"]] == [(25, 2525)]
    assert "2525" in " ".join(mail_in["healthcheck"]["test"])
    for name in ("worker", "mail-in"):
        assert services[name]["environment"]["CIVICLOOP_REPLY_DOMAIN"] == "reply.example.org"

    for name in ("migrate", "api", "worker", "mail-in"):
        environment = services[name]["environment"]
        assert environment["CIVICLOOP_ENVIRONMENT"] == "production"
        assert environment["CIVICLOOP_SECRET_KEY"] == SECRET
        assert environment["CIVICLOOP_PUBLIC_BASE_URL"] == f"https://{PUBLIC_HOST}"
        assert environment["CIVICLOOP_AUTO_MIGRATE"] == "false"
        assert make_url(environment["CIVICLOOP_DATABASE_URL"]).host == "db"
        assert services[name]["image"] == "civicloop:latest"
        assert services[name]["build"]["context"] == str(ROOT)


def test_every_command_the_deployment_runs_exists(tmp_path: Path) -> None:
    commands = [
        service["command"]
        for service in resolved_services().values()
        if "command" in service and "build" in service  # our image; db and redis are upstream's
    ]
    dockerfile_cmd = [value for kind, value in dockerfile_instructions() if kind == "CMD"]
    commands.append(yaml.safe_load(dockerfile_cmd[-1]))
    for command in commands:
        assert command[0] == "civicloop", command
        result = run([*command[:2], "--help"], env=clean_environment(), cwd=tmp_path)
        assert result.returncode == 0, f"{command}: {result.stderr}"


def test_dockerfile_builds_a_slim_non_root_image_that_serves() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [value for kind, value in instructions if kind == "USER"]
    assert users, "the image must not run as root"
    assert users[-1] not in ("root", "0")
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for kind, value in instructions:
        if kind == "COPY":
            *sources, _ = value.split()
            for source in sources:
                assert (ROOT / source).exists(), value
                assert not any(fnmatch(source, pattern) for pattern in ignored), source
    assert yaml.safe_load([v for k, v in instructions if k == "CMD"][-1]) == ["civicloop", "serve"]
    healthcheck = next(v for k, v in instructions if k == "HEALTHCHECK")
    assert "/healthz" in healthcheck.split(" CMD ", 1)[1]


def test_the_image_serves_in_production_mode_and_needs_a_real_key(tmp_path: Path) -> None:
    environment = image_environment()
    assert environment["CIVICLOOP_ENVIRONMENT"] == "production"
    command = yaml.safe_load([v for k, v in dockerfile_instructions() if k == "CMD"][-1])
    # Run as the image would, without a key: it refuses, says why, and touches nothing.
    refused = run(command, env=clean_environment(**environment), cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "CIVICLOOP_SECRET_KEY" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "var").exists()
    # Nor can development mode be asked for with the public key on a public interface.
    development = {**environment, "CIVICLOOP_ENVIRONMENT": "development"}
    refused = run(command, env=clean_environment(**development), cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "development signing key" in refused.stderr
    assert not (tmp_path / "var").exists()


def test_the_compose_commands_run_natively_on_postgis(
    db_kind: str, new_database: NewDatabase, tmp_path: Path
) -> None:
    if db_kind != "postgis":
        pytest.skip("the compose stack runs on PostGIS: the --db=postgis leg runs this")
    services = resolved_services(CIVICLOOP_WORKERS="2")
    # Only the database's address differs from the containers: here it is the test server.
    url = new_database()
    port = free_port()

    def environment(service: str, **extra: str) -> dict[str, str]:
        values = {k: str(v) for k, v in services[service]["environment"].items()}
        local = {"CIVICLOOP_DATABASE_URL": url, "CIVICLOOP_REDIS_URL": LOCAL_REDIS_URL}
        return clean_environment(**{**values, **local, **extra})

    api_env = environment("api", CIVICLOOP_PORT=str(port))
    healthcheck = shell_command(services["api"]["healthcheck"]["test"])
    image_healthcheck = next(v for k, v in dockerfile_instructions() if k == "HEALTHCHECK")
    image_healthcheck = image_healthcheck.split(" CMD ", 1)[1]

    with serving(services["api"]["command"], env=api_env, cwd=tmp_path, port=port) as api:
        # The API never migrates by itself: until `migrate` ran it is alive but not ready.
        api.wait_until("/healthz")
        assert api.wait_until("/readyz", 503).json()["type"].endswith("/problems/not-ready")
        assert run(["sh", "-c", healthcheck], env=api_env, cwd=tmp_path).returncode != 0

        migrated = run(services["migrate"]["command"], env=environment("migrate"), cwd=tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        database = Database(url)
        try:
            assert pending_migrations(database.engine) == []
        finally:
            database.dispose()

        assert api.wait_until("/readyz").json() == {"status": "ok", "database": "postgresql"}
        for check in (healthcheck, image_healthcheck):
            result = run(["sh", "-c", check], env=api_env, cwd=tmp_path)
            assert result.returncode == 0, f"{shlex.quote(check)}: {result.stderr}"
        # Production answers only for its public host (the probes above answer any).
        public = httpx.get(f"{api.base_url}/api/v1/categories", headers={"Host": PUBLIC_HOST})
        assert public.json() == []
        forged = httpx.get(f"{api.base_url}/api/v1/categories")
        assert forged.status_code == 400
        assert forged.json()["type"] == f"https://{PUBLIC_HOST}/problems/host-not-allowed"

        assert api.terminate() == 0, api.output()
        assert not api.is_listening()
    assert "Started parent process" in api.output()  # several workers, as configured

    # mail-in receives on the migrated database; its healthcheck sees it listening.
    smtp_port = free_port()
    mail_in_command = [
        str(smtp_port) if arg == "2525" else arg for arg in services["mail-in"]["command"]
    ]
    mail_in_check = [
        arg.replace("2525", str(smtp_port))
        for arg in services["mail-in"]["healthcheck"]["test"][1:]
    ]
    mail_env = environment("mail-in", CIVICLOOP_REPLY_DOMAIN="reply.example.org")
    with serving(mail_in_command, env=mail_env, cwd=tmp_path, port=smtp_port) as mail_in:
        deadline = time.monotonic() + 60
        while run(mail_in_check, env=mail_env, cwd=tmp_path).returncode != 0:
            assert mail_in.process.poll() is None, mail_in.output()
            assert time.monotonic() < deadline, mail_in.output()
            time.sleep(0.3)
        assert mail_in.terminate() == 0, mail_in.output()
    assert "receiving replies for @reply.example.org" in mail_in.output()
