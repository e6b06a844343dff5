"""GeoReport v2 for strict clients (issue 14 item 5): every field present in JSON and XML (null
or empty when unknown), an address that is always a string, media_url from the report's photos
(the JSON API's, or the `media` file of a multipart POST, decoded as any photo is), extended
photos, empty lists as XML documents, api_key in the query, dates with or without fractions."""

from __future__ import annotations

import datetime as dt
import io

import httpx
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Issue, Photo, PhotoKind
from tests.factories import WEST_DISTRICT, bearer, make_district
from tests.open311.conftest import V2, Open311City
from tests.open311.helpers import children, request_form, xml
from tests.open311.test_requests import SPEC_FIELDS, report


def jpeg(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((width, height), 60).convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


async def one(client: httpx.AsyncClient, request_id: str, **params: str) -> dict[str, object]:
    response = await client.get(f"{V2}/requests/{request_id}.json", params=params)
    assert response.status_code == 200, response.text
    [request] = response.json()
    assert isinstance(request, dict)
    return request


async def test_a_request_without_an_address_carries_every_field_and_a_readable_place(
    client: httpx.AsyncClient, db: Session, city: Open311City
) -> None:
    make_district(db, "bang-rak", WEST_DISTRICT)
    request_id = await report(client, city, address_string=None)  # type: ignore[arg-type]
    request = await one(client, request_id)
    assert list(request) == SPEC_FIELDS
    assert request["address"] == "Bang-Rak (13.72000, 100.52000)"
    for unknown in ("status_notes", "agency_responsible", "zipcode", "address_id", "media_url"):
        assert request[unknown] is None, unknown
    # The same fields in XML: unknown ones are present and empty.
    root = xml(await client.get(f"{V2}/requests/{request_id}.xml"))
    [element] = root.findall("request")
    fields = children(element)
    assert list(fields) == SPEC_FIELDS
    assert fields["address"] == "Bang-Rak (13.72000, 100.52000)"
    assert fields["media_url"] == ""


async def test_outside_every_district_the_address_is_the_point(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    request_id = await report(client, city, address_string=None)  # type: ignore[arg-type]
    assert (await one(client, request_id))["address"] == "13.72000, 100.52000"


async def test_media_url_is_the_first_photo_added_through_the_json_api(
    client: httpx.AsyncClient, settings: Settings, city: Open311City
) -> None:
    request_id = await report(client, city, media_url="https://elsewhere.example/hole.jpg")
    uploaded = await client.post(
        f"/api/v1/issues/{request_id}/photos",
        params={"kind": "report"},
        headers=bearer(settings, city.integration),
        files=[
            ("photo", ("first.jpg", jpeg(), "image/jpeg")),
            ("photo", ("b.jpg", jpeg(), "image/jpeg")),
        ],
    )
    assert uploaded.status_code == 201, uploaded.text
    first = uploaded.json()[0]
    request = await one(client, request_id, extensions="true")
    # A photo stored here wins over the link the client sent.
    assert request["media_url"] == first["urls"]["display"]
    extended = request["extended_attributes"]
    assert isinstance(extended, dict)
    assert [p["media_url"] for p in extended["photos"]] == [
        p["urls"]["display"] for p in uploaded.json()
    ]
    assert extended["photos"][0]["width"] == 640
    assert extended["photos"][0]["kind"] == "report"
    # XML lists them as <photos><photo>.
    root = xml(await client.get(f"{V2}/requests/{request_id}.xml", params={"extensions": "true"}))
    shown = root.findall("request/extended_attributes/photos/photo/media_url")
    assert [e.text for e in shown] == [p["urls"]["display"] for p in uploaded.json()]


async def test_the_media_file_of_a_multipart_post_is_stored_as_the_reports_photo(
    client: httpx.AsyncClient, db: Session, city: Open311City
) -> None:
    form = request_form(city.api_key)
    created = await client.post(
        f"{V2}/requests.json",
        data=form,
        files={"media": ("hole.jpg", jpeg(1200, 900), "image/jpeg")},
    )
    assert created.status_code == 201, created.text
    request_id = created.json()[0]["service_request_id"]
    db.rollback()
    issue_id = db.scalar(select(Issue.id).where(Issue.public_id == request_id))
    [photo] = db.scalars(select(Photo).where(Photo.issue_id == issue_id)).all()
    assert photo.kind == PhotoKind.report
    request = await one(client, request_id)
    media_url = request["media_url"]
    assert isinstance(media_url, str)
    assert media_url.endswith(f"/api/v1/photos/{photo.id}/display")
    # It is a real picture, decoded and re-encoded as every report photo is.
    served = await client.get(media_url.removeprefix("http://test"))
    assert served.status_code == 200
    picture = Image.open(io.BytesIO(served.content))
    assert picture.format == "JPEG"
    assert picture.size[0] / picture.size[1] == pytest.approx(4 / 3, rel=0.01)


async def test_a_media_part_that_is_not_an_image_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, db: Session, city: Open311City
) -> None:
    for fmt in ("json", "xml"):
        refused = await client.post(
            f"{V2}/requests.{fmt}",
            data=request_form(city.api_key),
            files={"media": ("hole.jpg", b"<html>not a photo</html>", "image/jpeg")},
        )
        assert 400 <= refused.status_code < 500, refused.text
        assert "hole.jpg" in refused.text
    db.rollback()
    assert db.scalars(select(Issue)).all() == []


async def test_empty_lists_are_xml_documents_and_json_arrays(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    root = xml(await client.get(f"{V2}/requests.xml"))
    assert (root.tag, list(root)) == ("service_requests", [])
    assert (await client.get(f"{V2}/requests.json")).json() == []


async def test_the_api_key_may_come_in_the_query_string(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    form = request_form(city.api_key)
    del form["api_key"]
    created = await client.post(f"{V2}/requests.json", params={"api_key": city.api_key}, data=form)
    assert created.status_code == 201, created.text
    refused = await client.post(f"{V2}/requests.json", params={"api_key": "wrong"}, data=form)
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "shape",
    [
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%d %H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S.%fZ",
        "%Y-%m-%d %H:%M:%S.%f+00:00",
        "%Y-%m-%dT%H:%M:%S.%f",  # no offset: refused below
    ],
)
async def test_dates_with_or_without_fractions_and_with_a_space_or_t(
    client: httpx.AsyncClient, city: Open311City, shape: str
) -> None:
    request_id = await report(client, city)
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime(shape)
    response = await client.get(f"{V2}/requests.json", params={"start_date": start})
    if shape.endswith("%f"):
        assert response.status_code == 400
        return
    assert response.status_code == 200, response.text
    assert [r["service_request_id"] for r in response.json()] == [request_id]
