"""POST Service Request: form-encoded with an api_key, through the same creation service as
/api/v1 (routing, deadlines, timeline), answers checked against the service definition; every
refusal is the spec's error answer and stores nothing."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Issue, IssueEvent, Open311Submission
from tests.factories import count
from tests.open311.conftest import V2, Open311City
from tests.open311.helpers import JSON, children, error_codes, request_form, xml


async def test_the_specs_example_request_creates_a_routed_issue(
    client: httpx.AsyncClient, db: Session, city: Open311City
) -> None:
    response = await client.post(
        f"{V2}/requests.json",
        data=request_form(
            city.api_key,
            jurisdiction_id="bangkok.example",
            email="smit333@sfgov.edu",
            device_id="tt222111",
            account_id="123456",
            first_name="john",
            last_name="smith",
            phone="111111111",
            media_url="http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg",
            **{"attribute[lanes][]": "lane", "attribute[depth_cm]": "12.5"},
        ),
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == JSON
    [created] = response.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["account_id"] == "123456"
    assert "168 hours" in created["service_notice"]

    db.rollback()
    issue = db.scalar(select(Issue).where(Issue.public_id == created["service_request_id"]))
    assert issue is not None
    assert issue.reporter_id == city.integration.id
    assert issue.title == "Deep hole in the left lane"
    assert issue.address == "Silom Soi 5, Bang Rak, Bangkok"
    assert issue.attributes == {"size": "large", "lanes": ["lane"], "depth_cm": 12.5}
    assert (issue.resolve_due_at - issue.created_at).total_seconds() == 168 * 3600
    events = db.scalars(select(IssueEvent).where(IssueEvent.issue_id == issue.id)).all()
    assert [e.action for e in events] == ["reported"]
    submission = db.get(Open311Submission, issue.id)
    assert submission is not None
    assert (submission.email, submission.first_name, submission.phone) == (
        "smit333@sfgov.edu",
        "john",
        "111111111",
    )


async def test_the_answer_in_xml_is_a_service_requests_document(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    response = await client.post(f"{V2}/requests.xml", data=request_form(city.api_key))
    assert response.status_code == 201, response.text
    root = xml(response)
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    fields = children(request)
    assert set(fields) == {"service_request_id", "service_notice", "account_id"}
    assert fields["account_id"] == ""
    assert "token" not in fields


async def test_multivaluelist_answers_come_in_both_encodings(
    client: httpx.AsyncClient, db: Session, city: Open311City
) -> None:
    for body in (
        "attribute[lanes][]=lane&attribute[lanes][]=bike",
        "attribute[lanes]=lane&attribute[lanes]=bike",
    ):
        form = httpx.QueryParams(request_form(city.api_key))
        response = await client.post(
            f"{V2}/requests.json",
            content=f"{form}&{body}",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        assert response.status_code == 201, response.text
        db.rollback()
        stored = db.scalar(
            select(Issue.attributes).where(
                Issue.public_id == response.json()[0]["service_request_id"]
            )
        )
        assert stored == {"size": "large", "lanes": ["lane", "bike"]}


async def test_the_open311_and_the_v1_creates_share_their_rules(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    # The same question refused the same way on both surfaces: one rule, one place.
    v1 = await client.post(
        "/api/v1/issues",
        headers={"X-API-Key": city.api_key},
        json={
            "category": "pothole",
            "title": "Hole",
            "latitude": 13.72,
            "longitude": 100.52,
            "attributes": {"size": "enormous"},
        },
    )
    assert v1.status_code == 422
    assert v1.json()["errors"][0]["location"] == "body.attributes.size"
    geo = await client.post(
        f"{V2}/requests.json", data=request_form(city.api_key, **{"attribute[size]": "enormous"})
    )
    assert geo.status_code == 400
    assert "attribute[size]" in geo.json()[0]["description"]


REFUSALS = [
    pytest.param({"api_key": None}, 403, id="no api_key"),
    pytest.param({"api_key": "clk_not-a-key"}, 403, id="bad api_key"),
    pytest.param({"service_code": None}, 400, id="no service_code"),
    pytest.param({"service_code": "volcano"}, 404, id="unknown service_code"),
    pytest.param({"jurisdiction_id": "elsewhere.example"}, 404, id="other jurisdiction"),
    pytest.param({"lat": None, "long": None, "address_string": None}, 400, id="no location"),
    pytest.param({"long": None}, 400, id="lat without long"),
    pytest.param({"lat": None, "long": None}, 400, id="address only"),
    pytest.param({"lat": "91"}, 400, id="latitude out of range"),
    pytest.param({"lat": "north"}, 400, id="latitude not a number"),
    pytest.param({"attribute[size]": None}, 400, id="required attribute missing"),
    pytest.param({"attribute[size]": ""}, 400, id="required attribute empty"),
    pytest.param({"attribute[size]": "huge"}, 400, id="value outside the list"),
    pytest.param({"attribute[lanes]": "sky"}, 400, id="multivalue outside the list"),
    pytest.param({"attribute[depth_cm]": "deep"}, 400, id="not a number"),
    pytest.param({"attribute[since]": "2026-01-01T10:00:00"}, 400, id="datetime without zone"),
    pytest.param({"attribute[since]": "yesterday"}, 400, id="not a datetime"),
    pytest.param({"attribute[notice]": "hello"}, 400, id="informational attribute answered"),
    pytest.param({"attribute[colour]": "red"}, 400, id="unknown attribute"),
    pytest.param({"description": "x" * 4001}, 400, id="description over 4000 characters"),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("change", "status"), REFUSALS)
async def test_bad_requests_get_the_specs_error_answer_and_store_nothing(
    client: httpx.AsyncClient,
    db: Session,
    city: Open311City,
    change: dict[str, str | None],
    status: int,
    fmt: str,
) -> None:
    form = {k: v for k, v in {**request_form(city.api_key), **change}.items() if v is not None}
    response = await client.post(f"{V2}/requests.{fmt}", data=form)
    assert response.status_code == status, response.text
    assert set(error_codes(response)) == {status}
    assert count(db, Issue) == 0
    assert count(db, Open311Submission) == 0


async def test_several_wrong_answers_are_all_reported(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    response = await client.post(
        f"{V2}/requests.json",
        data=request_form(
            city.api_key, **{"attribute[size]": "huge", "attribute[depth_cm]": "deep"}
        ),
    )
    assert response.status_code == 400
    descriptions = [e["description"] for e in response.json()]
    assert len(descriptions) == 2
    assert any(d.startswith("attribute[size]") for d in descriptions)
    assert any(d.startswith("attribute[depth_cm]") for d in descriptions)


async def test_a_json_body_is_not_a_form_and_is_refused(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    response = await client.post(f"{V2}/requests.json", json=request_form(city.api_key))
    assert response.status_code == 403
    assert error_codes(response) == [403]
