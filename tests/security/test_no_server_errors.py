"""Whatever the OpenAPI document allows a client to send, and much it does not, the answer is
never a 5xx, its status is one the document lists, and every refusal is problem+json (GeoReport
v2's own error format under /open311).
Schemathesis generates the requests from /openapi.json (valid ones and, in its negative phase,
invalid ones) and sends them to the app."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.factories import vapid_key
from tests.security.helpers import World, build_world, report_issue

# The document is the same whatever the database, so it is read from an app that never connects
# to one; the requests go to the test's own app.
_UNUSED_DATABASE = f"sqlite:///{tempfile.gettempdir()}/civicloop-never-opened.db"
schema = schemathesis.openapi.from_dict(
    create_app(
        Settings(environment="test", database_url=_UNUSED_DATABASE, _env_file=None)
    ).openapi()
)


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


@schema.parametrize()
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    # The world is built once per operation; the examples only add to it.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_yields_a_server_error(case: Case[Any], app: FastAPI, world: World) -> None:
    # Without credentials, as an admin (who passes most checks) and as an agency's agent.
    for caller in ("anonymous", "admin", "agent"):
        response = case.call(app=app, headers=world.headers[caller])
        # No 5xx, and every status answered is one the document lists for the operation.
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
        # Open311 answers errors in GeoReport v2's own format (tests/open311 checks it).
        if response.status_code >= 400 and not case.path.startswith("/open311/"):
            assert response.headers["content-type"] == ["application/problem+json"], (
                case.as_curl_command(),
                response.text,
            )
