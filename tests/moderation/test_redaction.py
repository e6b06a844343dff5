"""Staff redact an issue's title or description and public comments: the redacted text replaces
the original on every surface (the JSON API, Open311, exports, pages, the timeline), and the
original is kept for the audit only, read by admins."""

from __future__ import annotations

import io
import json

import httpx
from PIL import Image
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import User
from tests.factories import IN_WEST, bearer
from tests.lifecycle.helpers import City, act
from tests.moderation.surfaces import STRANGER_DEVICE, public_text
from tests.notifications.helpers import delivered_mail, outbox
from tests.photos.helpers import upload
from tests.photos.images import phone_jpeg

PHONE = "081 234 5678"


async def reported(client: httpx.AsyncClient, settings: Settings, city: City) -> str:
    made = await client.post(
        "/api/v1/issues",
        headers=bearer(settings, city.reporter),
        json={
            "category": city.category.code,
            "title": f"Broken light, call me on {PHONE}",
            "description": f"Call {PHONE} when fixed",
            "longitude": IN_WEST[0],
            "latitude": IN_WEST[1],
        },
    )
    assert made.status_code == 201, made.text
    issue_id: str = made.json()["id"]
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    return issue_id


async def redact(
    client: httpx.AsyncClient, settings: Settings, user: User, issue_id: str, **body: object
) -> httpx.Response:
    return await client.post(
        f"/api/v1/issues/{issue_id}/redactions", headers=bearer(settings, user), json=body
    )


async def test_redacted_text_leaves_every_public_surface_and_stays_for_the_audit(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = await reported(client, settings, city)
    assert PHONE in await public_text(client, issue_id)
    before = len(outbox(database, issue_id))
    for field, text in (("title", "Broken light"), ("description", "Call [removed] when fixed")):
        done = await redact(
            client, settings, city.agent, issue_id, field=field, text=text, reason="a phone number"
        )
        assert done.status_code == 201, done.text
        assert done.json() == {"issue": issue_id, "field": field}
    comment = await client.post(
        f"/api/v1/issues/{issue_id}/comments",
        headers=STRANGER_DEVICE,
        json={"body": f"His number is {PHONE}, ring him"},
    )
    assert comment.status_code == 201, comment.text
    redacted = await client.post(
        f"/api/v1/comments/{comment.json()['id']}/redactions",
        headers=bearer(settings, city.agent),
        json={"text": "His number is [removed], ring him", "reason": "a phone number"},
    )
    assert redacted.status_code == 201, redacted.text
    assert redacted.json()["body"] == "His number is [removed], ring him"

    seen = await public_text(client, issue_id)
    assert "Call [removed] when fixed" in seen
    assert "His number is [removed]" in seen
    assert PHONE not in seen
    # The timeline says that a moderator removed something, not what.
    timeline = (await client.get(f"/api/v1/issues/{issue_id}/timeline")).json()
    assert [e["action"] for e in timeline].count("redacted") == 3
    # Followers are not told of a redaction (the comment, yes: the reporter follows).
    assert {r.payload["event"]["action"] for r in outbox(database, issue_id)[before:]} == {
        "commented"
    }

    audit = await client.get(
        f"/api/v1/issues/{issue_id}/redactions", headers=bearer(settings, city.admin)
    )
    assert audit.status_code == 200, audit.text
    assert [(r["field"], r["original"]) for r in audit.json()] == [
        ("title", f"Broken light, call me on {PHONE}"),
        ("description", f"Call {PHONE} when fixed"),
        ("comment", f"His number is {PHONE}, ring him"),
    ]
    for user in (city.agent, city.reporter, city.stranger):
        refused = await client.get(
            f"/api/v1/issues/{issue_id}/redactions", headers=bearer(settings, user)
        )
        assert refused.status_code == 403, user


async def test_only_the_handling_agency_and_admins_redact_and_the_text_must_change(
    client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    issue_id = await reported(client, settings, city)
    for user in (city.reporter, city.stranger, city.rival):
        refused = await redact(
            client, settings, user, issue_id, field="title", text="Broken", reason="r"
        )
        assert refused.status_code == 403, user
        assert refused.headers["content-type"] == "application/problem+json"
    same = await redact(
        client,
        settings,
        city.admin,
        issue_id,
        field="description",
        text=f"Call {PHONE} when fixed",
        reason="r",
    )
    assert same.status_code == 422
    for body in (
        {"field": "title", "text": "x", "reason": "r"},  # a title keeps 3 characters
        {"field": "address", "text": "somewhere", "reason": "r"},
        {"field": "title", "text": "Broken light"},  # no reason
    ):
        bad = await redact(client, settings, city.admin, issue_id, **body)
        assert bad.status_code == 422, body
        assert bad.headers["content-type"] == "application/problem+json"


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


async def test_a_redacted_photo_is_served_with_the_region_filled_in_and_the_original_kept(
    client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    issue_id = await reported(client, settings, city)
    added = await upload(client, settings, city.reporter, issue_id, ("p.jpg", phone_jpeg(800, 600)))
    assert added.status_code == 201, added.text
    [photo] = added.json()
    before = await client.get(photo["urls"]["display"])
    assert before.status_code == 200
    # The left half holds a face; the right half stays as it was.
    done = await client.post(
        f"/api/v1/photos/{photo['id']}/redactions",
        headers=bearer(settings, city.agent),
        json={"region": {"left": 0, "top": 0, "width": 0.5, "height": 1}, "reason": "a face"},
    )
    assert done.status_code == 201, done.text

    for variant in ("display", "thumbnail"):
        served = await client.get(photo["urls"][variant])
        assert served.status_code == 200, variant
        image = decoded(served.content)
        w, h = image.size
        assert image.getpixel((w // 4, h // 2)) == (0, 0, 0), variant
        assert image.getpixel((3 * w // 4, h // 2)) != (0, 0, 0), variant
    assert (await client.get(photo["urls"]["display"])).content != before.content
    full = await client.get(
        f"/api/v1/photos/{photo['id']}/full", headers=bearer(settings, city.agent)
    )
    assert full.status_code == 200, full.text
    assert decoded(full.content).getpixel((10, 10)) == (0, 0, 0)  # staff see it redacted too

    audit = await client.get(
        f"/api/v1/issues/{issue_id}/redactions", headers=bearer(settings, city.admin)
    )
    [kept] = audit.json()
    assert (kept["field"], kept["photo_id"], kept["reason"]) == ("photo", photo["id"], "a face")
    assert set(json.loads(kept["original"])) == {"full", "display", "thumbnail"}
    timeline = (await client.get(f"/api/v1/issues/{issue_id}/timeline")).json()
    assert timeline[-1]["action"] == "redacted"


async def test_a_photo_region_must_lie_inside_it_and_only_moderators_redact(
    client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    issue_id = await reported(client, settings, city)
    added = await upload(client, settings, city.reporter, issue_id, ("p.jpg", phone_jpeg(400, 300)))
    photo_id = added.json()[0]["id"]
    url = f"/api/v1/photos/{photo_id}/redactions"
    inside = {"left": 0.1, "top": 0.1, "width": 0.2, "height": 0.2}
    for region in (
        {"left": 0.8, "top": 0, "width": 0.5, "height": 0.5},
        {"left": -0.1, "top": 0, "width": 0.5, "height": 0.5},
        {"left": 0, "top": 0, "width": 0, "height": 0.5},
    ):
        bad = await client.post(
            url, headers=bearer(settings, city.agent), json={"region": region, "reason": "r"}
        )
        assert bad.status_code == 422, region
        assert bad.headers["content-type"] == "application/problem+json"
    for user in (city.reporter, city.rival):
        refused = await client.post(
            url, headers=bearer(settings, user), json={"region": inside, "reason": "r"}
        )
        assert refused.status_code == 403, user


async def test_messages_queued_before_a_redaction_are_sent_with_the_redacted_words(
    client: httpx.AsyncClient, settings: Settings, database: Database, city: City
) -> None:
    issue_id = await reported(client, settings, city)  # the claim's update waits in the outbox
    comment = await client.post(
        f"/api/v1/issues/{issue_id}/comments",
        headers=STRANGER_DEVICE,
        json={"body": f"His number is {PHONE}, ring him"},
    )
    assert comment.status_code == 201, comment.text
    queued = outbox(database, issue_id)
    assert any(PHONE in json.dumps(r.payload) for r in queued)  # as things stood then
    done = await redact(
        client, settings, city.agent, issue_id, field="title", text="Broken light", reason="r"
    )
    assert done.status_code == 201, done.text
    redacted = await client.post(
        f"/api/v1/comments/{comment.json()['id']}/redactions",
        headers=bearer(settings, city.agent),
        json={"text": "His number is [removed], ring him", "reason": "a phone number"},
    )
    assert redacted.status_code == 201, redacted.text

    mail = delivered_mail(database, settings)
    to_reporter = [m for m in mail if m["To"] == city.reporter.email]
    assert len(to_reporter) >= 2  # the report's receipt or claim, and the comment
    bodies = [f"{m['Subject']}\n{m.get_content()}" for m in mail]
    assert all(PHONE not in body for body in bodies), bodies
    assert any("Broken light" in m["Subject"] for m in to_reporter)
    assert any("His number is [removed], ring him" in body for body in bodies)
