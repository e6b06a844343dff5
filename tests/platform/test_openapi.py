"""/openapi.json is complete and valid: every answer an operation gives is documented as
problem+json, and /docs works offline from packaged assets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Role
from app.services import accounts
from tests.factories import bearer, make_agency, make_category, make_issue, make_user

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
METHODS = ("get", "put", "post", "patch", "delete")
# Surfaces that answer in their standard's error format rather than this API's Problem.
OWN_ERROR_FORMATS = ("/open311/", "/seeclickfix/")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]
    components: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def parameters(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == where]

    def takes(self, header: str) -> bool:
        return any(p["name"].lower() == header for p in self.parameters("header"))

    def choices(self, param: dict[str, Any]) -> list[str]:
        """The values an enumerated path parameter takes (empty for ids)."""
        schema = param["schema"]
        if "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
        return [str(value) for value in schema.get("enum", [])]

    @property
    def looks_up_objects(self) -> bool:
        """A path naming a stored object (not only a choice such as a format) can answer 404."""
        ids = [p for p in self.parameters("path") if not self.choices(p)]
        return bool(ids) and self.path.startswith("/api/")

    @property
    def documented(self) -> set[int]:
        return {int(status) for status in self.spec["responses"]}


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    doc: dict[str, Any] = answer.json()
    return doc


def operations(doc: dict[str, Any]) -> list[Operation]:
    return [
        Operation(method, path, spec, doc["components"]["schemas"])
        for path, item in doc["paths"].items()
        for method, spec in item.items()
        if method in METHODS
    ]


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)  # raises with the first violation
    assert document["openapi"].startswith("3.1")


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    found = refs(document)
    assert "#/components/schemas/Problem" in found
    for ref in set(found):
        assert ref.startswith("#/"), ref
        node: Any = document
        for part in ref[2:].split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]


def test_every_error_answer_is_documented_as_a_problem(document: dict[str, Any]) -> None:
    for operation in operations(document):
        if operation.path.startswith(OWN_ERROR_FORMATS):
            continue  # GeoReport v2's and SeeClickFix's own error formats
        for status, response in operation.spec["responses"].items():
            if int(status) >= 400:
                assert response["content"] == PROBLEM, f"{operation} {status}"


def test_operations_document_what_their_inputs_can_cause(document: dict[str, Any]) -> None:
    """Read from the document itself: what a request of that shape can be refused for."""
    missing: list[str] = []
    for operation in operations(document):
        expected: set[int] = set()
        if "requestBody" in operation.spec:
            expected |= {400, 413, 415, 422}  # malformed, too large, not JSON, invalid
        if operation.spec.get("parameters"):
            expected.add(422)
        if operation.spec.get("security"):
            expected.add(401)  # credentials that are sent are checked, even where optional
        if operation.looks_up_objects:
            expected.add(404)
        if operation.takes("if-match"):
            expected |= {400, 412, 428}  # malformed, stale, missing (staff must send it)
        if operation.takes("idempotency-key"):
            expected |= {409, 422}  # first request still running; key reused for another body
        if gaps := expected - operation.documented:
            missing.append(f"{operation}: {sorted(gaps)}")
    assert missing == []


@dataclass(frozen=True)
class Probe:
    name: str
    headers: dict[str, str]
    applies: str = "all"  # "all", "path", "body", "query", "if-match", "idempotency-key"
    body: bytes | None = None
    content_type: str = "application/json"
    bad_path: bool = False
    existing: bool = False
    query: dict[str, str] | None = None


def probes(citizen: dict[str, str], admin: dict[str, str]) -> list[Probe]:
    return [
        Probe("anonymous", {}),
        Probe("a forged bearer token", {"Authorization": "Bearer not-a-token"}),
        Probe("an unknown API key", {"X-API-Key": "clk_not-a-key"}),
        Probe("a malformed device id", {"X-Device-Id": "short"}),
        Probe("a citizen", citizen),
        Probe("an admin", admin),
        Probe("an admin on things that exist", admin, existing=True),
        Probe("an admin with ids of the wrong shape", admin, "path", bad_path=True),
        Probe("a text body", admin, "body", body=b"hello", content_type="text/plain"),
        Probe("malformed JSON", admin, "body", body=b'{"title": '),
        Probe("a negative limit", admin, "query", query={"limit": "-1"}),
        Probe("a tampered cursor", admin, "query", query={"cursor": "tampered"}),
        Probe("a short Idempotency-Key", {**admin, "Idempotency-Key": "short"}, "idempotency-key"),
        Probe("a malformed If-Match", {**admin, "If-Match": "3"}, "if-match", existing=True),
        Probe("a stale If-Match", {**admin, "If-Match": '"999"'}, "if-match", existing=True),
    ]


# Bodies that get past validation, so the probes reach the rules behind it.
VALID_BODIES = {
    ("patch", "/api/v1/issues/{issue_id}"): b'{"title": "A clearer title"}',
    ("post", "/api/v1/issues/{issue_id}/transitions"): b'{"action": "close"}',
}


def applies(probe: Probe, operation: Operation) -> bool:
    return {
        "all": True,
        "path": bool(operation.parameters("path")),
        "body": "requestBody" in operation.spec,
        "query": {p["name"] for p in operation.parameters("query")} >= set(probe.query or ()),
        "if-match": operation.takes("if-match"),
        "idempotency-key": operation.takes("idempotency-key"),
    }[probe.applies]


def fill_path(operation: Operation, probe: Probe, existing: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        param = next(p for p in operation.parameters("path") if p["name"] == name)
        is_int = param["schema"].get("type") == "integer"
        if choices := operation.choices(param):
            return "x" * 40 if probe.bad_path else choices[0]
        if probe.bad_path:
            return "abc" if is_int else "x" * 40
        # Photos need real image processing to exist: tests/photos probes those routes.
        if probe.existing and name in existing:
            return existing[name]
        return "999999" if is_int else "ZZZZZZZZ"

    return re.sub(r"\{(\w+)\}", value, operation.path)


async def test_every_answer_an_operation_gives_is_documented(
    client: httpx.AsyncClient,
    document: dict[str, Any],
    db: Session,
    database: Database,
    settings: Settings,
) -> None:
    category = make_category(db, "streetlight")
    agency = make_agency(db, categories=[category])
    admin = make_user(db, Role.admin)
    citizen = make_user(db)
    issue = make_issue(db, database.spatial, reporter=citizen, category=category)
    api_key, _ = accounts.create_api_key(db, owner=admin, name="probe")
    db.commit()
    existing = {"issue_id": issue.public_id, "agency_id": str(agency.id), "key_id": str(api_key.id)}
    problem_schema = Draft202012Validator(
        {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    )

    undocumented: list[str] = []
    seen: set[int] = set()
    for operation in operations(document):
        if operation.path.startswith(OWN_ERROR_FORMATS):
            continue  # answered in their own error formats: tests/open311, tests/seeclickfix
        for probe in probes(bearer(settings, citizen), bearer(settings, admin)):
            if not applies(probe, operation):
                continue
            body = probe.body
            if body is None and "requestBody" in operation.spec:
                body = VALID_BODIES.get((operation.method, operation.path), b"{}")
            answer = await client.request(
                operation.method,
                fill_path(operation, probe, existing),
                headers={**probe.headers, "Content-Type": probe.content_type},
                params=probe.query,
                content=body,
            )
            where = f"{operation} with {probe.name}: {answer.status_code}"
            # 503 is the server's own state (a feature not configured here), never the input's.
            assert answer.status_code < 500 or answer.status_code == 503, f"{where} {answer.text}"
            if answer.status_code < 400:
                continue
            seen.add(answer.status_code)
            if answer.status_code not in operation.documented:
                undocumented.append(where)
            assert answer.headers["content-type"] == "application/problem+json", where
            errors = [e.message for e in problem_schema.iter_errors(answer.json())]
            assert errors == [], where
            assert answer.json()["status"] == answer.status_code, where
    assert undocumented == []
    # The probes did reach every kind of refusal the document promises.
    assert seen >= {400, 401, 403, 404, 409, 412, 415, 422, 428}


async def test_an_oversized_body_is_refused_as_a_documented_problem(
    client: httpx.AsyncClient, document: dict[str, Any], settings: Settings
) -> None:
    big = b'{"title": "' + b"x" * settings.max_body_bytes + b'"}'
    for operation in operations(document):
        if "requestBody" not in operation.spec:
            continue
        answer = await client.request(
            operation.method,
            re.sub(r"\{(\w+)\}", "1", operation.path),
            headers={"Content-Type": "application/json"},
            content=big,
        )
        assert answer.status_code == 413, operation
        assert 413 in operation.documented, operation
        assert answer.headers["content-type"] == "application/problem+json", operation


async def test_docs_page_works_offline_from_packaged_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in page.text
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text)
    assert urls, page.text
    for url in urls:
        assert url.startswith("/"), f"{url}: /docs must not load anything from another site"
    assert "cdn" not in page.text.lower()

    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
    script = next(u for u in urls if u.endswith(".js"))
    assert "SwaggerUIBundle" in (await client.get(script)).text
