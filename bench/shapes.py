"""What the benchmarks send and expect, read from the application's own OpenAPI document.

Nothing here spells a request body or a status code: a report is made of what the bench knows
about it (where, what, its text), fitted to the properties `POST /api/v1/issues` declares
(lengths cut to the schema's limits, absent optional properties left out) and validated against
that schema before anything is sent. Query parameters are checked against the operation's
declared parameters, the success status and the page's list of items are the document's own.
If the API changes shape, the run stops here with a message naming what moved, instead of
measuring errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from app.config import Settings
from app.main import create_app

ISSUES_PATH = "/api/v1/issues"


class ShapeError(RuntimeError):
    """The API no longer has the shape the benchmark relies on."""


@dataclass(frozen=True)
class Report:
    """What the bench knows about a report, by meaning; `Api.create_body` names it."""

    category: str
    title: str
    description: str
    latitude: float
    longitude: float
    address: str | None


class Api:
    """The contract of the endpoints the benchmarks call, as the app documents it."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    @classmethod
    def of_app(cls, database_url: str) -> Api:
        """The document of an app built by the code under test (it opens no connection)."""
        settings = Settings(database_url=database_url, auto_migrate=False, _env_file=None)
        app = create_app(settings)
        try:
            return cls(app.openapi())
        finally:
            app.state.database.dispose()

    def operation(self, path: str, method: str) -> Mapping[str, Any]:
        try:
            found: Mapping[str, Any] = self.document["paths"][path][method.lower()]
        except KeyError:
            raise ShapeError(f"the API has no {method.upper()} {path} any more") from None
        return found

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/"):
                raise ShapeError(f"cannot follow {ref!r}")
            node: Any = self.document
            for part in ref[2:].split("/"):
                node = node[part]
            schema = node
        return schema

    def success_status(self, path: str, method: str) -> int:
        """The one 2xx answer the operation declares."""
        codes = [int(c) for c in self.operation(path, method)["responses"] if c.startswith("2")]
        if len(codes) != 1:
            raise ShapeError(f"{method.upper()} {path} declares {codes} as success, not one")
        return codes[0]

    def json_body_schema(self, path: str, method: str) -> Mapping[str, Any]:
        body = self.operation(path, method).get("requestBody", {})
        try:
            return self.resolve(body["content"]["application/json"]["schema"])
        except KeyError:
            raise ShapeError(f"{method.upper()} {path} takes no JSON body any more") from None

    def validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        # The document's components travel with the schema so that its `$ref`s resolve.
        return Draft202012Validator({**schema, "components": self.document.get("components", {})})

    def check_query(self, path: str, query: Mapping[str, str]) -> None:
        parameters = self.operation(path, "get").get("parameters", [])
        declared = {p["name"] for p in parameters if p["in"] == "query"}
        unknown = set(query) - declared
        if unknown:
            raise ShapeError(f"GET {path} no longer takes {sorted(unknown)} (it takes {declared})")

    def page_items(self, path: str) -> str:
        """The property of the JSON page that holds its list of items."""
        response = self.operation(path, "get")["responses"]["200"]
        schema = self.resolve(response["content"]["application/json"]["schema"])
        lists = [
            name
            for name, prop in schema.get("properties", {}).items()
            if self.resolve(prop).get("type") == "array"
        ]
        if len(lists) != 1:
            raise ShapeError(f"GET {path}'s page has list properties {lists}, not one")
        name: str = lists[0]
        return name

    @cached_property
    def _create(self) -> tuple[Mapping[str, Any], Draft202012Validator]:
        schema = self.json_body_schema(ISSUES_PATH, "post")
        return schema, self.validator(schema)

    def create_body(self, report: Report) -> dict[str, Any]:
        """The JSON body of `POST /api/v1/issues` for `report`, fitted to its declared schema."""
        schema, validator = self._create
        properties: Mapping[str, Any] = schema.get("properties", {})
        known = {
            "category": report.category,
            "title": report.title,
            "description": report.description,
            "latitude": report.latitude,
            "longitude": report.longitude,
            "address": report.address,
        }
        missing = set(schema.get("required", ())) - {k for k, v in known.items() if v is not None}
        if missing:
            raise ShapeError(f"creating an issue now requires {sorted(missing)}: teach bench/")
        gone = set(known) - set(properties)
        if gone:
            raise ShapeError(f"creating an issue no longer takes {sorted(gone)}")
        body = {
            name: _fit(value, self._string_limits(properties[name]))
            for name, value in known.items()
            if value is not None
        }
        try:
            validator.validate(body)
        except ValidationError as invalid:
            raise ShapeError(f"the create body does not fit: {invalid.message}") from None
        return body

    def _string_limits(self, prop: Mapping[str, Any]) -> tuple[int, int] | None:
        for option in (prop, *prop.get("anyOf", ())):
            option = self.resolve(option)
            if option.get("type") == "string":
                return option.get("minLength", 0), option.get("maxLength", 1 << 31)
        return None


def _fit(value: Any, limits: tuple[int, int] | None) -> Any:
    """Text cut to the schema's maximum length, and padded to its minimum (real reports can be
    longer or shorter than the API allows; the bench wants them accepted)."""
    if limits is None or not isinstance(value, str):
        return value
    low, high = limits
    text = value.strip()[:high].strip()
    return text.ljust(low, ".") if len(text) < low else text
