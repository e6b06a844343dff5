"""CI runs the README's test command, and that command cannot pass with PostGIS left out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.platform.server import clean_environment

ROOT = Path(__file__).resolve().parents[2]


def test_ci_runs_lint_types_and_the_suite_on_both_databases() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    # What `make test` would run, without running it.
    plan = subprocess.run(
        ["make", "--dry-run", "test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for step in (
        "ruff check",
        "ruff format --check",
        "mypy",
        "scripts/ensure-tools.sh",
        "scripts/ensure-postgis.sh",
        "pytest --db=sqlite",
        "pytest --db=postgis",
    ):
        assert step in plan, f"`make test` no longer runs {step}:\n{plan}"
    # Each leg runs on every core, a database per process, and the two legs at once.
    legs = [line for line in plan.splitlines() if "pytest --db=" in line]
    assert len(legs) == 2
    assert all("--numprocesses=auto" in leg for leg in legs), legs


def test_the_postgis_leg_fails_rather_than_skips_without_a_server() -> None:
    # Nothing listens on port 1: the run must end in an error, not in a quiet skip.
    unreachable = "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--db=postgis",
            "-p",
            "no:cacheprovider",
            "tests/platform/test_migrations.py::test_migrations_build_exactly_the_models",
        ],
        cwd=ROOT,
        env=clean_environment(CIVICLOOP_TEST_POSTGRES_URL=unreachable),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, result.stdout
    assert "1 error" in result.stdout, result.stdout
    assert "skipped" not in result.stdout, result.stdout
