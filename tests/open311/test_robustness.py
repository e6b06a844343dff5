"""Whatever a client sends, GeoReport answers with data or with its own error list: never a
500, never a different error format."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.open311.conftest import V2, Open311City
from tests.open311.helpers import error_codes

NAMES = [
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "updated_after",
    "updated_before",
    "bbox",
    "lat",
    "long",
    "radius",
    "page",
    "page_size",
    "extensions",
    "jurisdiction_id",
    "api_key",
    "description",
    "attribute[size]",
    "attribute[lanes][]",
    "attribute[depth_cm]",
    "attribute[since]",
]
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "open",
            "closed",
            "pothole",
            "13.72",
            "100.52",
            "-1",
            "1e309",
            "nan",
            "0",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00+07:00",
            "2026-02-30",
            "large",
            "1,2,3,4",
            "100.5,13.7,100.6,13.8",
            "true",
        ]
    ),
)
PARAMS = st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=6)
FAST = hypothesis_settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def send(app: FastAPI, method: str, url: str, **kwargs: dict[str, str]) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, url, **kwargs)  # type: ignore[arg-type]

    return asyncio.run(go())


@FAST
@given(params=PARAMS, fmt=st.sampled_from(["json", "xml"]))
def test_any_query_gets_data_or_the_specs_errors(
    app: FastAPI, city: Open311City, params: dict[str, str], fmt: str
) -> None:
    response = send(app, "GET", f"{V2}/requests.{fmt}", params=params)
    assert response.status_code in (200, 400, 404), response.text
    if response.status_code != 200:
        # One error per bad parameter, each with the answer's code.
        assert set(error_codes(response)) == {response.status_code}


@FAST
@given(form=PARAMS, fmt=st.sampled_from(["json", "xml"]))
def test_any_form_gets_a_request_or_the_specs_errors(
    app: FastAPI, city: Open311City, form: dict[str, str], fmt: str
) -> None:
    response = send(app, "POST", f"{V2}/requests.{fmt}", data={"service_code": "pothole", **form})
    assert response.status_code in (201, 400, 403, 404), response.text
    if response.status_code != 201:
        assert set(error_codes(response)) == {response.status_code}
