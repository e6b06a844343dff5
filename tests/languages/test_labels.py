"""Labels for people next to the stable codes: the same request in Thai and in English."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app import i18n
from app.config import Settings
from app.db import Database
from app.models import (
    EventAction,
    Flag,
    IssueStatus,
    Language,
    Priority,
    Resolution,
    Role,
)
from app.services.timeframes import TimeframeState
from tests.factories import bearer, if_match, make_agency, make_category, make_issue, make_user

THAI = {"Accept-Language": "th"}
ENGLISH = {"Accept-Language": "en"}


async def both(client: httpx.AsyncClient, url: str, **headers: str) -> tuple[Any, Any]:
    """The same GET in Thai and in English; both must succeed and say which language they are."""
    thai = await client.get(url, headers={**headers, **THAI})
    english = await client.get(url, headers={**headers, **ENGLISH})
    assert thai.status_code == english.status_code == 200, (thai.text, english.text)
    assert thai.headers["content-language"] == "th"
    assert english.headers["content-language"] == "en"
    for answer in (thai, english):
        assert "accept-language" in answer.headers["vary"].lower()
    return thai.json(), english.json()


@pytest.fixture
def reported(db: Session, database: Database, settings: Settings) -> dict[str, Any]:
    category = make_category(db, "streetlight")
    agency = make_agency(db, categories=[category], slug="lights")
    agent = make_user(db, Role.agent, agency=agency)
    issue = make_issue(db, database.spatial, reporter=make_user(db), category=category)
    return {"id": issue.public_id, "agent": agent, "category": category, "agency": agency}


async def test_an_issue_carries_labels_for_its_status_priority_and_category(
    client: httpx.AsyncClient, reported: dict[str, Any]
) -> None:
    thai, english = await both(client, f"/api/v1/issues/{reported['id']}")

    assert thai["status"] == english["status"] == "open"
    assert (thai["status_label"], english["status_label"]) == ("รอรับเรื่อง", "Open")
    assert (thai["priority_label"], english["priority_label"]) == ("ปกติ", "Normal")
    assert thai["resolution_label"] is english["resolution_label"] is None
    category = reported["category"]
    assert thai["category"]["name"] == category.name_th
    assert english["category"]["name"] == category.name_en
    assert thai["category"]["name_en"] == english["category"]["name_en"] == category.name_en


async def test_a_resolved_issue_names_its_resolution_and_its_agency(
    client: httpx.AsyncClient, settings: Settings, reported: dict[str, Any]
) -> None:
    url = f"/api/v1/issues/{reported['id']}"
    staff = bearer(settings, reported["agent"])
    for step in ({"action": "claim"}, {"action": "resolve", "resolution": "fixed"}):
        answer = await client.post(
            f"{url}/transitions", json=step, headers=await if_match(client, reported["id"], staff)
        )
        assert answer.status_code == 200, answer.text

    thai, english = await both(client, url)

    assert (thai["resolution_label"], english["resolution_label"]) == ("แก้ไขเรียบร้อย", "Fixed")
    assert thai["agency"]["name"] == reported["agency"].name_th
    assert english["agency"]["name"] == reported["agency"].name_en


async def test_the_timeline_labels_each_step(
    client: httpx.AsyncClient, settings: Settings, reported: dict[str, Any]
) -> None:
    url = f"/api/v1/issues/{reported['id']}"
    staff = await if_match(client, reported["id"], bearer(settings, reported["agent"]))
    claimed = await client.post(f"{url}/transitions", json={"action": "claim"}, headers=staff)
    assert claimed.status_code == 200

    thai, english = await both(client, f"{url}/events")

    assert [e["action"] for e in english] == ["reported", "claimed"]
    assert [e["action_label"] for e in english] == ["Reported", "Taken on by an agency"]
    assert [e["action_label"] for e in thai] == ["รับแจ้งเรื่อง", "หน่วยงานรับเรื่อง"]
    assert [e["to_status_label"] for e in thai] == ["รอรับเรื่อง", "รับเรื่องแล้ว"]
    assert [e["actor"]["role_label"] for e in english] == ["Citizen", "Agency staff"]


async def test_the_time_frame_state_is_labelled(
    client: httpx.AsyncClient, reported: dict[str, Any]
) -> None:
    thai, english = await both(client, f"/api/v1/issues/{reported['id']}/timeframe")

    assert thai["state"] == english["state"] == "on_track"
    assert (thai["state_label"], english["state_label"]) == ("ตามกำหนด", "On track")


async def test_issue_lists_label_every_item(
    client: httpx.AsyncClient, reported: dict[str, Any]
) -> None:
    thai, english = await both(client, "/api/v1/issues")

    assert [i["status_label"] for i in thai["items"]] == ["รอรับเรื่อง"]
    assert [i["status_label"] for i in english["items"]] == ["Open"]


async def test_categories_and_agencies_are_named_in_the_request_language(
    client: httpx.AsyncClient, reported: dict[str, Any]
) -> None:
    thai, english = await both(client, "/api/v1/categories")
    assert [c["name"] for c in thai] == [reported["category"].name_th]
    assert [c["name"] for c in english] == [reported["category"].name_en]

    thai, english = await both(client, "/api/v1/agencies")
    assert [a["name"] for a in thai] == [reported["agency"].name_th]
    assert [a["name"] for a in english] == [reported["agency"].name_en]


async def test_statistics_are_named_per_language_and_cached_per_language(
    client: httpx.AsyncClient, reported: dict[str, Any]
) -> None:
    url = "/api/v1/stats/counts/status"
    thai, english = await both(client, url)
    assert thai["counts"] == [{"key": "open", "name": "รอรับเรื่อง", "count": 1}]
    assert english["counts"] == [{"key": "open", "name": "Open", "count": 1}]

    # Asked again within the cache's lifetime, each language still gets its own body and ETag.
    thai_again = await client.get(url, headers=THAI)
    english_again = await client.get(url, headers=ENGLISH)
    assert thai_again.json() == thai
    assert english_again.json() == english
    assert thai_again.headers["etag"] != english_again.headers["etag"]
    revalidated = await client.get(
        url, headers={**ENGLISH, "If-None-Match": thai_again.headers["etag"]}
    )
    assert revalidated.status_code == 200
    assert revalidated.json() == english

    thai, english = await both(client, "/api/v1/stats/counts/category")
    assert [c["name"] for c in thai["counts"]] == [reported["category"].name_th]
    assert [c["name"] for c in english["counts"]] == [reported["category"].name_en]

    thai, english = await both(client, "/api/v1/stats/patterns")
    assert thai["by_weekday"][0]["name"] == "วันจันทร์"
    assert english["by_weekday"][0]["name"] == "Monday"


def test_every_code_people_read_has_a_label_in_both_languages() -> None:
    enums: list[type[StrEnum]] = [
        IssueStatus,
        Resolution,
        Priority,
        Flag,
        EventAction,
        TimeframeState,
        Role,
        Language,
    ]
    assert {e.__name__ for e in enums} == set(i18n.LABELLED)
    for enum in enums:
        for member in enum:
            key = f"label.{i18n.LABELLED[enum.__name__]}.{member.value}"
            assert i18n.has(key), key
