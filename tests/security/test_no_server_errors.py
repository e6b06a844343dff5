"""Whatever the OpenAPI document allows a client to send, and much it does not, the answer is
never a 5xx, its status is one the document lists, and every refusal is problem+json (GeoReport
v2's own error format under /open311).
Schemathesis generates the requests from /openapi.json (its explicit examples, its coverage cases
and fuzzed ones, valid and invalid) and they are sent to the app as three callers. The cases are
generated once per document and shared by every test process (`generated_requests`)."""

from __future__ import annotations

import tempfile
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from pydantic import SecretStr
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.factories import vapid_key
from tests.security.generated_requests import GeneratedRequests, Operation, prune_stale_caches
from tests.security.helpers import World, build_world, report_issue

# The document is the same whatever the database, so it is read from an app that never connects
# to one; the requests go to the test's own app.
_UNUSED_DATABASE = f"sqlite:///{tempfile.gettempdir()}/civicloop-never-opened.db"
DOCUMENT = create_app(
    Settings(environment="test", database_url=_UNUSED_DATABASE, _env_file=None)
).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)
generated = GeneratedRequests(schema, DOCUMENT)
prune_stale_caches(DOCUMENT)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every feature switched on, Web Push and LINE included, so that every route really runs
    (LINE's API on a closed local port: nothing leaves the machine)."""
    return settings.model_copy(
        update={
            "vapid_private_key": vapid_key(),
            "line_channel_secret": SecretStr("line-channel-secret-for-tests"),
            "line_channel_access_token": SecretStr("line-access-token-for-tests"),
            "line_api_base_url": "http://127.0.0.1:9",
            "line_data_api_base_url": "http://127.0.0.1:9",
        }
    )


@pytest.fixture
def world(db: Session, database: Database, settings: Settings) -> World:
    world = build_world(db, database, settings)
    report_issue(db, database, settings, world, "acknowledged")
    return world


async def _send(
    client: httpx.AsyncClient, case: Case[Any], headers: dict[str, str]
) -> httpx.Response:
    """The case, encoded as Schemathesis's own transport encodes it (bodies, multipart, cookies),
    sent to the app in this process."""
    request = requests.Request(
        **case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
    ).prepare()
    assert request.method is not None
    assert request.url is not None
    assert request.body is None or isinstance(request.body, bytes | str)
    encoded = {
        name: value if isinstance(value, str) else value.decode("latin-1")
        for name, value in request.headers.items()
    }
    return await client.request(request.method, request.url, headers=encoded, content=request.body)


@pytest.mark.parametrize("operation", generated.operations(), ids=lambda operation: operation.label)
async def test_no_request_yields_a_server_error(
    operation: Operation, client: httpx.AsyncClient, world: World
) -> None:
    cases = generated.cases(operation)
    assert cases, f"Schemathesis generated no request for {operation.label}"
    for case in cases:
        # Without credentials, as an admin (who passes most checks) and as an agency's agent.
        for caller in ("anonymous", "admin", "agent"):
            response = await _send(client, case, world.headers[caller])
            # No 5xx, and every status answered is one the document lists for the operation.
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
            # Open311 answers errors in GeoReport v2's own format (tests/open311 checks it).
            if response.status_code >= 400 and not case.path.startswith("/open311/"):
                assert response.headers["content-type"] == "application/problem+json", (
                    case.as_curl_command(),
                    response.text,
                )
