"""A small New York City described in one file, English only (real community districts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.platform.conftest import new_database  # noqa: F401 (the fixture, for the command)

NYC_DISTRICTS = Path("/work/shared/data/nyc-community-districts.geojson")

NYC_YAML = f"""\
city:
  name: {{en: New York City}}
  default_language: en
  languages: [en, es]
  time_zone: America/New_York
districts:
  file: {NYC_DISTRICTS}
  id_property: communityDistrict
  name_property: communityDistrict
agencies:
  - slug: dot
    name: {{en: Department of Transportation, es: Departamento de Transporte}}
    jurisdiction: city
    categories: [street-light, pothole]
  - slug: cb-lower-manhattan
    name: {{en: Lower Manhattan Community Boards}}
    email: cb1@example.org
    jurisdiction: ["101", "102"]
    categories: [noise]
categories:
  - code: street-light
    name: {{en: Street Light Condition}}
    group: {{en: Streets}}
    targets: {{acknowledge_hours: 24, resolve_hours: 240}}
  - code: pothole
    name: {{en: Street Condition, es: Condición de la calle}}
    group: {{en: Streets}}
    targets: {{acknowledge_hours: 48, resolve_hours: 480}}
  - code: noise
    name: {{en: Noise - Residential}}
    group: {{en: Quality of life}}
    targets: {{acknowledge_hours: 8, resolve_hours: 72}}
"""

# Points inside districts (lon, lat), from the districts' own polygons.
IN_101 = (-74.0086792962536, 40.71316671733399)  # Lower Manhattan (Financial District)
IN_102 = (-74.00252782486868, 40.729456861934565)  # Greenwich Village
IN_301 = (-73.94540871652607, 40.71858568020118)  # Williamsburg, Brooklyn
IN_THE_ATLANTIC = (-73.5, 40.3)


@pytest.fixture
def nyc_file(tmp_path: Path) -> Path:
    path = tmp_path / "nyc.yaml"
    path.write_text(NYC_YAML, encoding="utf-8")
    return path
