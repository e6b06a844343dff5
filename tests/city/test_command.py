"""`civicloop city apply FILE [--dry-run]` as an operator runs it, on a fresh database."""

from __future__ import annotations

from pathlib import Path

from tests.city.conftest import NYC_YAML
from tests.platform.conftest import NewDatabase
from tests.platform.server import CIVICLOOP, clean_environment, run


def test_dry_run_prints_the_plan_then_apply_makes_it_once(
    nyc_file: Path,
    new_database: NewDatabase,
    tmp_path: Path,
) -> None:
    env = clean_environment(CIVICLOOP_DATABASE_URL=new_database())
    planned = run([CIVICLOOP, "city", "apply", str(nyc_file), "--dry-run"], env=env, cwd=tmp_path)
    assert planned.returncode == 0, planned.stderr
    assert "create agency dot" in planned.stdout
    assert planned.stdout.endswith("New York City: would change 78\n")

    applied = run([CIVICLOOP, "city", "apply", str(nyc_file)], env=env, cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.endswith("New York City: changed 78\n")
    again = run([CIVICLOOP, "city", "apply", str(nyc_file)], env=env, cwd=tmp_path)
    assert again.stdout == "New York City: changed 0\n"

    nyc_file.write_text(NYC_YAML.replace("{en: Streets}", "{en: Streets, es: Calles}", 1))
    edited = run([CIVICLOOP, "city", "apply", str(nyc_file)], env=env, cwd=tmp_path)
    assert edited.stdout == "update category street-light: group_names\nNew York City: changed 1\n"


def test_a_refused_file_exits_2_and_says_where(nyc_file: Path, tmp_path: Path) -> None:
    nyc_file.write_text(NYC_YAML.replace("jurisdiction: city", "jurisdiction: town"))
    refused = run(
        [CIVICLOOP, "city", "apply", str(nyc_file)], env=clean_environment(), cwd=tmp_path
    )
    assert refused.returncode == 2
    assert "nyc.yaml:13:5: agencies[0].jurisdiction: Input should be 'city'" in refused.stderr
    assert not (tmp_path / "var").exists()  # not even a database was made
