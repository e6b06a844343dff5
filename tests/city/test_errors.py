"""A city file with mistakes is refused as a whole: every problem with the file position and the
field, and nothing is applied."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import city
from app.models import Category
from tests.city.conftest import NYC_YAML

QUOTED_999 = '"999"'
SPRINGFIELD_JSON = """\
{
  "city": {
    "name": {"en": "Springfield"},
    "default_language": "en",
    "time_zone": "UTC",
    "languages": ["en"]
  },
  "agencies": [{"slug": "Works", "name": {"en": "Works"}, "jurisdiction": "city"}]
}
"""


def _problems(tmp_path: Path, text: str, name: str = "nyc.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(city.CityFileError) as refused:
        city.load(path)
    return [str(p) for p in refused.value.problems]


def _line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


def _at(text: str, fragment: str) -> str:
    """line:column of the fragment (1-based)."""
    line = _line_of(text, fragment)
    return f"{line}:{text.splitlines()[line - 1].index(fragment) + 1}"


def test_a_missing_default_language_name_is_reported_at_its_line(tmp_path: Path) -> None:
    text = NYC_YAML.replace("name: {en: Noise - Residential}", "name: {es: Ruido}")
    line = _line_of(text, "name: {es: Ruido}")
    assert _problems(tmp_path, text) == [
        f"nyc.yaml:{line}:5: categories[2].name: a name in the default language (en) is required"
    ]


def test_unknown_references_and_wrong_values_are_all_reported(tmp_path: Path) -> None:
    text = (
        NYC_YAML.replace('["101", "102"]', '["101", "999"]')
        .replace("categories: [noise]", "categories: [noise, graffiti]")
        .replace("America/New_York", "America/Gotham")
        .replace(
            "acknowledge_hours: 8, resolve_hours: 72", "acknowledge_hours: 0, resolve_hours: 72"
        )
    )
    problems = _problems(tmp_path, text)
    assert len(problems) == 1  # schema errors come first; fix them and the rest follow
    assert problems[0].startswith(f"nyc.yaml:{_line_of(text, 'acknowledge_hours: 0')}:")
    assert "categories[2].targets.acknowledge_hours" in problems[0]

    text = text.replace("acknowledge_hours: 0", "acknowledge_hours: 8")
    problems = _problems(tmp_path, text)
    assert problems == [
        f"nyc.yaml:{_line_of(text, 'time_zone')}:3: city.time_zone: unknown time zone "
        "'America/Gotham' (IANA names)",
        f"nyc.yaml:{_at(text, 'graffiti')}: agencies[1].categories[1]: unknown category 'graffiti'",
        f"nyc.yaml:{_at(text, QUOTED_999)}: agencies[1].jurisdiction[1]: unknown district '999'",
    ]


def test_a_required_field_missing_names_the_field(tmp_path: Path) -> None:
    text = NYC_YAML.replace("  time_zone: America/New_York\n", "")
    # Where the field is missing: the section that lacks it.
    assert _problems(tmp_path, text) == ["nyc.yaml:1:1: city.time_zone: Field required"]


def test_a_broken_file_names_the_line(tmp_path: Path) -> None:
    assert _problems(tmp_path, "city: {name: [\n")[0].startswith("nyc.yaml:2:1: not valid YAML")
    assert _problems(tmp_path, '{"city": }', name="nyc.json") == [
        "nyc.json:1:10: not valid JSON: Expecting value"
    ]


def test_json_works_like_yaml_with_positions(tmp_path: Path) -> None:
    text = SPRINGFIELD_JSON
    [problem] = _problems(tmp_path, text, name="springfield.json")
    assert problem.startswith("springfield.json:8:")
    assert "agencies[0].slug" in problem


def test_an_invalid_polygon_that_could_be_repaired_two_ways_is_refused(tmp_path: Path) -> None:
    overlapping = tmp_path / "overlapping.geojson"
    overlapping.write_text(
        '{"type": "MultiPolygon", "coordinates": [[[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]],'
        " [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]]]}"
    )
    text = NYC_YAML.replace(
        'jurisdiction: ["101", "102"]', f"jurisdiction: {{file: {overlapping}}}"
    )
    [problem] = _problems(tmp_path, text)
    assert "agencies[1].jurisdiction.file" in problem
    assert "Self-intersection" in problem
    assert "more than one way" in problem


def test_a_ring_that_crosses_itself_is_repaired_and_the_plan_says_where(tmp_path: Path) -> None:
    bowtie = tmp_path / "bowtie.geojson"
    bowtie.write_text(
        '{"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}'
    )
    text = NYC_YAML.replace('jurisdiction: ["101", "102"]', f"jurisdiction: {{file: {bowtie}}}")
    source = tmp_path / "city.yaml"
    source.write_text(text)
    loaded = city.load(source)
    [repair] = [str(r) for r in loaded.repairs]
    assert repair.startswith("city.yaml:")
    assert "agencies[1].jurisdiction.file" in repair
    assert "Self-intersection" in repair
    area = loaded.jurisdictions[loaded.spec.agencies[1].slug]
    assert area.is_valid
    assert area.area == pytest.approx(0.5)  # the two triangles of the bow tie


def test_nothing_is_applied_when_the_file_is_refused(db: Session, tmp_path: Path) -> None:
    text = NYC_YAML.replace('["101", "102"]', '["101", "999"]')
    _problems(tmp_path, text)
    assert db.scalars(select(Category)).all() == []
