"""LINE: a resident sends a location, a photo and a description to the webhook (signed with the
channel secret, verified with line-bot-sdk), and the report is made; status updates come back
in the chat, pushed by the worker. LINE's API is a local server speaking its protocol."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Issue, LineContact, Photo, PhotoKind, Role
from tests.channels.line_server import LineServer
from tests.conftest import AppFor, http_client
from tests.factories import (
    IN_WEST,
    WEST_DISTRICT,
    make_agency,
    make_category,
    make_district,
    make_user,
)
from tests.lifecycle.helpers import act, problem_type, stored_count
from tests.limits.conftest import GENEROUS, limits_on
from tests.notifications.helpers import drain
from tests.photos import images

SECRET = "line-channel-secret-for-tests"
TOKEN = "line-channel-access-token-for-tests"
RESIDENT = "U" + "4f" * 16
_ids = itertools.count(1)


@pytest.fixture
def line_api() -> Iterator[LineServer]:
    server = LineServer(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def line_settings(settings: Settings, line_api: LineServer) -> Settings:
    return settings.model_copy(
        update={
            "line_channel_secret": SecretStr(SECRET),
            "line_channel_access_token": SecretStr(TOKEN),
            "line_api_base_url": line_api.url,
            "line_data_api_base_url": line_api.url,
        }
    )


@pytest.fixture
async def client(line_settings: Settings, app_for: AppFor) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app_for(line_settings)) as client:
        yield client


def event(kind: str, user: str = RESIDENT, **extra: Any) -> dict[str, Any]:
    n = next(_ids)
    return {
        "type": kind,
        "mode": "active",
        "timestamp": 1_765_100_000_000 + n,
        "source": {"type": "user", "userId": user},
        "webhookEventId": f"01HLINETEST{n:06d}",
        "deliveryContext": {"isRedelivery": False},
        "replyToken": f"reply-token-{n}",
        **extra,
    }


def location(lon: float = IN_WEST[0], lat: float = IN_WEST[1]) -> dict[str, Any]:
    content = {"type": "location", "id": str(next(_ids)), "title": "Here", "address": "Soi 5"}
    return event("message", message={**content, "latitude": lat, "longitude": lon})


def photo(message_id: str) -> dict[str, Any]:
    content = {"type": "image", "id": message_id, "contentProvider": {"type": "line"}}
    return event("message", message={**content, "quoteToken": "q"})


def text(words: str) -> dict[str, Any]:
    content = {"type": "text", "id": str(next(_ids)), "text": words, "quoteToken": "q"}
    return event("message", message=content)


def signed(events: list[dict[str, Any]], secret: str = SECRET) -> dict[str, Any]:
    body = json.dumps({"destination": "Ubot", "events": events}).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return {
        "content": body,
        "headers": {"Content-Type": "application/json", "X-Line-Signature": signature.decode()},
    }


async def send(client: httpx.AsyncClient, *events: dict[str, Any]) -> None:
    answer = await client.post("/channels/line/webhook", **signed(list(events)))
    assert answer.status_code == 200, answer.text


def reported(database: Database) -> Issue:
    with database.session(write=False) as session:
        return session.scalars(select(Issue)).one()


async def test_a_location_a_photo_and_words_make_a_report_and_its_updates_come_to_the_chat(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    line_settings: Settings,
    line_api: LineServer,
) -> None:
    general = make_category(db, "general")
    agency = make_agency(db, categories=[general], slug="west")
    agent = make_user(db, Role.agent, agency=agency)
    line_api.contents["7001"] = images.phone_jpeg(1600, 1200)

    await send(client, event("follow", follow={"isUnblocked": False}))
    await send(client, location())
    await send(client, photo("7001"))
    await send(client, text("Deep pothole by the bus stop\nA motorbike fell in it last night."))

    issue = reported(database)
    assert issue.title == "Deep pothole by the bus stop"
    assert issue.description.endswith("fell in it last night.")
    assert (issue.location.lon, issue.location.lat) == IN_WEST
    assert issue.address == "Soi 5"
    assert issue.agency_id is None  # routed to west's queue, not yet claimed
    with database.session(write=False) as session:
        [attached] = session.scalars(select(Photo)).all()
        assert attached.kind == PhotoKind.report
        contact = session.get_one(LineContact, RESIDENT)
        assert contact.user_id == issue.reporter_id
        assert contact.latitude is None  # the draft is spent
    welcome, _place, _picture, done = line_api.replies()
    assert "ตำแหน่ง" in welcome  # the resident's account reads Thai
    assert issue.public_id in done
    assert f"/issues/{issue.public_id}" in done
    assert [s.body["replyToken"] for s in line_api.sent][-1].startswith("reply-token-")

    claimed = await act(client, line_settings, agent, issue.public_id, "claim")
    assert claimed.status_code == 200, claimed.text
    drain(database, line_settings)

    pushed = line_api.pushes()  # receipts of the report and its photo, the claim: any order
    assert len(pushed) == 3
    assert {p.body["to"] for p in pushed} == {RESIDENT}
    texts = [p.body["messages"][0]["text"] for p in pushed]
    assert any(f"{agency.name_th} รับเรื่อง" in t for t in texts), texts  # Thai, naming the agency
    assert all(issue.public_id in t for t in texts)
    assert len({p.headers["X-Line-Retry-Key"] for p in pushed}) == 3
    drain(database, line_settings)
    assert len(line_api.pushes()) == len(pushed)  # each update is pushed once


async def test_words_before_a_location_ask_for_the_place_and_cancel_starts_again(
    client: httpx.AsyncClient, database: Database, line_api: LineServer
) -> None:
    await send(client, text("There is a broken light"))
    await send(client, location())
    await send(client, text("ยกเลิก"))
    await send(client, text("Now the words"))

    assert stored_count(database, Issue) == 0
    first, _, cancelled, again = line_api.replies()
    assert "+ → ตำแหน่งที่ตั้ง" in first
    assert "ยกเลิก" in cancelled
    assert again == first


async def test_a_photo_that_cannot_be_read_is_left_out_and_the_resident_told(
    client: httpx.AsyncClient, db: Session, database: Database, line_api: LineServer
) -> None:
    make_agency(db, categories=[make_category(db, "general")])
    line_api.contents["7002"] = images.truncated_jpeg()

    await send(client, location(), photo("7002"), text("Flooded road"))

    assert reported(database).title == "Flooded road"
    assert stored_count(database, Photo) == 0
    assert "ไม่มีรูป" in line_api.replies()[-1]


async def test_a_body_not_signed_with_the_channel_secret_is_refused_before_it_is_read(
    client: httpx.AsyncClient, database: Database, line_api: LineServer
) -> None:
    forged = signed([location(), text("Forged report")], secret="someone-elses-secret")
    unsigned = signed([location()])
    del unsigned["headers"]["X-Line-Signature"]

    for attempt in (forged, unsigned):
        answer = await client.post("/channels/line/webhook", **attempt)
        assert answer.status_code == 400, answer.text
        assert problem_type(answer) == "invalid-signature"
    assert stored_count(database, LineContact) == 0
    assert line_api.sent == []


async def test_without_a_channel_secret_the_webhook_says_it_is_not_set_up(
    app_for: AppFor, settings: Settings
) -> None:
    async with http_client(app_for(settings)) as client:
        answer = await client.post("/channels/line/webhook", **signed([location()]))
    assert answer.status_code == 503, answer.text
    assert "CIVICLOOP_LINE_CHANNEL_SECRET" in answer.json()["detail"]


async def test_reports_through_line_count_against_the_residents_report_allowance(
    app_for: AppFor, db: Session, database: Database, line_settings: Settings, line_api: LineServer
) -> None:
    make_agency(db, categories=[make_category(db, "general")])
    limited = limits_on(
        line_settings,
        rate_limit_report="1/year",
        rate_limit_report_ip=GENEROUS,
        rate_limit_line_ip=GENEROUS,
    )
    async with http_client(app_for(limited)) as client:
        await send(client, location(), text("First"))
        await send(client, location(), text("Second"))

    assert stored_count(database, Issue) == 1
    assert "ยังไม่ได้แจ้งเรื่อง" in line_api.replies()[-1]


async def test_an_emergency_sent_through_line_is_stopped_with_the_districts_number(
    client: httpx.AsyncClient, db: Session, database: Database, line_api: LineServer
) -> None:
    general = make_category(db, "general")
    general.emergency = True  # here every report is one, as a danger question's answer makes it
    west = make_district(db, "west", WEST_DISTRICT)
    west.emergency_number = "1669"
    db.commit()
    make_agency(db, categories=[general], slug="west")

    await send(client, location())
    await send(client, text("Gas is leaking in the market"))

    assert stored_count(database, Issue) == 0
    stopped = line_api.replies()[-1]
    assert "1669" in stopped


@pytest.mark.parametrize(
    ("profile", "reads"),
    [("en", "English"), ("ja", "English"), ("th", "Thai"), (None, "Thai"), ("absent", "Thai")],
)
async def test_replies_and_updates_are_in_the_language_of_the_residents_line_profile(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    line_settings: Settings,
    line_api: LineServer,
    profile: str | None,
    reads: str,
) -> None:
    """LINE says which language the resident uses it in: Thai for Thai, English for any other
    (civicloop has no third); a profile that says none (or none to read) keeps Thai."""
    if profile != "absent":
        line_api.languages[RESIDENT] = profile
    general = make_category(db, "general")
    agency = make_agency(db, categories=[general], slug="west")
    agent = make_user(db, Role.agent, agency=agency)

    await send(client, text("Broken street light"))  # a resident new to us: the profile is read
    await send(client, location())
    await send(client, text("Broken street light\nDark all night."))
    issue = reported(database)
    assert (await act(client, line_settings, agent, issue.public_id, "claim")).status_code == 200
    drain(database, line_settings)

    thai = re.compile("[\u0e00-\u0e7f]")
    said = [*line_api.replies(), *(p.body["messages"][0]["text"] for p in line_api.pushes())]
    assert len(said) == 5  # three replies; the pushed receipt of the report, and the claim
    for words in said:
        assert bool(thai.search(words)) is (reads == "Thai"), words
    # Asked once, when the resident was new to us, not on every message.
    assert line_api.profiles_asked == [RESIDENT]
