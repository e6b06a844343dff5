"""Parse and validate a city file: every problem with its file position and field, or the
city as it should be (districts and jurisdictions as polygons), ready to compare and apply."""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import unary_union

from app import i18n
from app.city.schema import AgencySpec, CategorySpec, CityFile, FileRef, GeneralCategory
from app.errors import ValidationFailed
from app.services.catalog import GENERAL_CATEGORY_NAMES
from app.spatial.geojson import parse_area

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class CityFileError(Exception):
    """The file cannot be applied; nothing was changed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class DistrictState:
    code: str
    names: dict[str, str]
    area: MultiPolygon
    emergency_number: str | None = None


@dataclass
class LoadedCity:
    source: Path
    spec: CityFile
    languages: list[str]
    districts: list[DistrictState]
    jurisdictions: dict[str, MultiPolygon]
    # The general category, as listed among the categories or made from city.general_category.
    categories: list[CategorySpec] = field(default_factory=list)
    # Polygons that were invalid and repaired (`parse_area`), each with its place in the file.
    repairs: list[Problem] = field(default_factory=list)

    @property
    def default_language(self) -> str:
        return self.spec.city.default_language

    def pair(self, names: dict[str, str]) -> tuple[str, str]:
        """The Thai and English names the API shows: each falls back to the default language."""
        default = names[self.default_language]
        return names.get("th", default), names.get("en", default)


def _label(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _Positions:
    """Line and column (1-based) of every key and item in a YAML (or JSON) document."""

    def __init__(self, text: str) -> None:
        self.at: dict[Loc, tuple[int, int]] = {}
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, loc: Loc) -> None:
        self.at.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*loc, str(key.value))
                self.at[here] = (key.start_mark.line + 1, key.start_mark.column + 1)
                self._walk(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*loc, index))

    def of(self, loc: Loc) -> tuple[Loc, tuple[int, int] | None]:
        """The deepest part of `loc` that is in the file, and its position."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.at:
                return loc[:end], self.at[loc[:end]]
        return (), None


class _Collector:
    def __init__(self, source: Path, positions: _Positions) -> None:
        self.source = source
        self.positions = positions
        self.problems: list[Problem] = []
        self.repairs: list[Problem] = []

    def _at(self, loc: Loc, message: str, exact: bool) -> Problem:
        found, position = self.positions.of(loc)
        line, column = position if position else (None, None)
        name = _label(loc if exact else found)
        return Problem(self.source.name, line, column, name, message)

    def add(self, loc: Loc, message: str, *, exact: bool = True) -> None:
        self.problems.append(self._at(loc, message, exact))

    def repaired(self, loc: Loc, message: str) -> None:
        self.repairs.append(self._at(loc, message, True))


def _read_document(source: Path) -> tuple[Any, str]:
    try:
        text = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CityFileError([Problem(source.name, None, None, "", f"cannot read: {exc}")]) from None
    try:
        if source.suffix.lower() == ".json":
            return json.loads(text), text
        return yaml.safe_load(text), text
    except json.JSONDecodeError as exc:
        problem = Problem(source.name, exc.lineno, exc.colno, "", f"not valid JSON: {exc.msg}")
        raise CityFileError([problem]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        reason = getattr(exc, "problem", None) or str(exc)
        problem = Problem(source.name, line, column, "", f"not valid YAML: {reason}")
        raise CityFileError([problem]) from None


def _pydantic(errors: Iterator[dict[str, Any]], out: _Collector) -> None:
    seen: set[Loc] = set()
    for error in errors:
        loc: Loc = tuple(error["loc"])
        found, _ = out.positions.of(loc)
        # A union reports each alternative; the first says enough.
        if found in seen and error["type"] != "missing":
            continue
        seen.add(found)
        missing = error["type"] == "missing"
        message = error["msg"].removeprefix("Value error, ")
        out.add(loc if missing else found, message, exact=missing)


def _geojson(path: Path, loc: Loc, out: _Collector) -> list[dict[str, Any]]:
    """The features of a GeoJSON file (a FeatureCollection, a Feature or a bare geometry)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        out.add(loc, f"no such file: {path}")
        return []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        out.add(loc, f"{path.name} is not readable GeoJSON: {exc}")
        return []
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "FeatureCollection" and isinstance(document.get("features"), list):
        features: list[dict[str, Any]] = document["features"]
        return features
    if kind == "Feature":
        return [document]
    if kind in ("Polygon", "MultiPolygon"):
        return [{"type": "Feature", "geometry": document, "properties": {}}]
    out.add(loc, f"{path.name} is not a GeoJSON FeatureCollection, Feature or (Multi)Polygon")
    return []


def _area(feature: Any, where: str, loc: Loc, out: _Collector) -> MultiPolygon | None:
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    repairs: list[str] = []
    try:
        area = parse_area(
            geometry if isinstance(geometry, dict) else {}, location=where, repairs=repairs
        )
    except ValidationFailed as exc:
        out.add(loc, exc.detail_in(i18n.FALLBACK))
        return None
    for reason in repairs:
        out.repaired(loc, f"{where}: " + i18n.t("district.repaired", i18n.FALLBACK, reason=reason))
    return area


def union(areas: Sequence[MultiPolygon]) -> MultiPolygon:
    merged = unary_union(list(areas))
    if isinstance(merged, Polygon):
        return MultiPolygon([merged])
    if isinstance(merged, MultiPolygon):
        return merged
    # Polygons that touch along an edge may leave slivers of other types: keep the areas.
    return MultiPolygon([g for g in getattr(merged, "geoms", []) if isinstance(g, Polygon)])


def _districts(loaded: CityFile, base: Path, out: _Collector) -> list[DistrictState]:
    section = loaded.districts
    if section is None:
        return []
    loc: Loc = ("districts", "file")
    features = _geojson(base / section.file, loc, out)
    name_props = (
        {loaded.city.default_language: section.name_property}
        if isinstance(section.name_property, str)
        else section.name_property
    )
    parts: dict[str, list[MultiPolygon]] = {}
    names: dict[str, dict[str, str]] = {}
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") or {} if isinstance(feature, dict) else {}
        raw_id = props.get(section.id_property)
        if raw_id is None or str(raw_id).strip() == "":
            out.add(loc, f"feature {number} has no {section.id_property!r} property")
            continue
        code = str(raw_id).strip()
        area = _area(feature, f"{section.file} feature {number} ({code})", loc, out)
        if area is None:
            continue
        parts.setdefault(code, []).append(area)
        for lang, prop in name_props.items():
            value = props.get(prop)
            if value is None or str(value).strip() == "":
                out.add(("districts", "name_property"), f"feature {number} has no {prop!r}")
            else:
                names.setdefault(code, {})[lang] = str(value).strip()
    for code in section.emergency_numbers:
        if code not in parts:
            out.add(("districts", "emergency_numbers", code), f"no district {code!r} in the file")
    return [
        DistrictState(
            code=code,
            names=names.get(code, {}),
            area=union(areas),
            emergency_number=section.emergency_numbers.get(code),
        )
        for code, areas in sorted(parts.items())
    ]


def _general(loaded: CityFile) -> CategorySpec | None:
    general: GeneralCategory = loaded.city.general_category
    if any(c.code == general.code for c in loaded.categories):
        return None
    name = general.name or dict(GENERAL_CATEGORY_NAMES)
    return CategorySpec(code=general.code, name=name, group=name, targets=general.targets)


def _check_names(loc: Loc, names: dict[str, Any], city: LoadedCity, out: _Collector) -> None:
    if city.default_language not in names:
        out.add(loc, f"a name in the default language ({city.default_language}) is required")
    for lang in names:
        if lang not in city.languages:
            out.add((*loc, lang), f"{lang} is not one of the city's languages {city.languages}")


def _check(city: LoadedCity, base: Path, out: _Collector) -> None:
    spec = city.spec
    if spec.city.languages and spec.city.default_language not in spec.city.languages:
        out.add(("city", "default_language"), "must be one of city.languages")
    try:
        zoneinfo.ZoneInfo(spec.city.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        out.add(("city", "time_zone"), f"unknown time zone {spec.city.time_zone!r} (IANA names)")
    _check_names(("city", "name"), spec.city.name, city, out)
    general_name = spec.city.general_category.name
    if general_name is not None:
        _check_names(("city", "general_category", "name"), general_name, city, out)
    elif city.default_language not in GENERAL_CATEGORY_NAMES:
        out.add(
            ("city", "general_category", "name"),
            f"give the general category a name in {city.default_language}",
            exact=False,
        )
    codes: set[str] = set()
    for i, category in enumerate(spec.categories):
        if category.code in codes:
            out.add(("categories", i, "code"), f"{category.code!r} is listed twice")
        codes.add(category.code)
        _check_names(("categories", i, "name"), category.name, city, out)
        if isinstance(category.group, dict):
            _check_names(("categories", i, "group"), category.group, city, out)
    codes.add(spec.city.general_category.code)
    district_codes = {d.code for d in city.districts}
    slugs: set[str] = set()
    for i, agency in enumerate(spec.agencies):
        if agency.slug in slugs:
            out.add(("agencies", i, "slug"), f"{agency.slug!r} is listed twice")
        slugs.add(agency.slug)
        _check_names(("agencies", i, "name"), agency.name, city, out)
        for j, code in enumerate(agency.categories):
            if code not in codes:
                out.add(("agencies", i, "categories", j), f"unknown category {code!r}")
        area = _jurisdiction(agency, i, city, district_codes, base, out)
        if area is not None:
            city.jurisdictions[agency.slug] = area


def _jurisdiction(
    agency: AgencySpec,
    i: int,
    city: LoadedCity,
    district_codes: set[str],
    base: Path,
    out: _Collector,
) -> MultiPolygon | None:
    loc: Loc = ("agencies", i, "jurisdiction")
    by_code = {d.code: d.area for d in city.districts}
    if agency.jurisdiction == "city":
        if not city.districts:
            out.add(loc, "`city` needs the districts section (the city is their union)")
            return None
        return union(list(by_code.values()))
    if isinstance(agency.jurisdiction, FileRef):
        features = _geojson(base / agency.jurisdiction.file, (*loc, "file"), out)
        areas = [
            _area(f, f"{agency.jurisdiction.file} feature {n}", (*loc, "file"), out)
            for n, f in enumerate(features, start=1)
        ]
        found = [a for a in areas if a is not None]
        return union(found) if found and len(found) == len(areas) else None
    if not agency.jurisdiction:
        out.add(loc, "list at least one district id")
        return None
    unknown = False
    for j, code in enumerate(agency.jurisdiction):
        if code not in district_codes:
            out.add((*loc, j), f"unknown district {code!r}")
            unknown = True
    return None if unknown else union([by_code[c] for c in agency.jurisdiction])


def load(source: Path) -> LoadedCity:
    """The city the file describes; raises CityFileError with every problem found."""
    document, text = _read_document(source)
    out = _Collector(source, _Positions(text))
    try:
        spec = CityFile.model_validate(document)
    except ValidationError as exc:
        _pydantic(iter(exc.errors()), out)  # type: ignore[arg-type]
        raise CityFileError(out.problems) from None
    languages = list(spec.city.languages) or [spec.city.default_language]
    base = source.parent
    city = LoadedCity(
        source=source,
        spec=spec,
        languages=languages,
        districts=_districts(spec, base, out),
        jurisdictions={},
    )
    _check(city, base, out)
    general = _general(spec)
    city.categories = [*spec.categories, *([general] if general else [])]
    city.repairs = out.repairs
    if out.problems:
        raise CityFileError(out.problems)
    return city
