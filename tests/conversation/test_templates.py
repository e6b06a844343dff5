"""Per-agency response templates: managers write them, agents use them, placeholders from a
fixed set are filled with the issue's real values in the reporter's language."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import i18n
from app.config import Settings
from app.db import Database
from app.models import Language, ResponseTemplate, Role, User
from app.services.response_templates import PLACEHOLDERS
from tests.conversation.helpers import comment, who
from tests.factories import make_user
from tests.lifecycle.helpers import City, act, problem_type, report

ACKNOWLEDGED_TH = i18n.t("label.status.acknowledged", Language.th)
BODIES = {
    "name": "Received",
    "body_th": "เรื่อง {issue_id} ({title}, {category}) "
    "อยู่กับ {agency}: {status} ภายใน {resolve_due_date}",
    "body_en": "Issue {issue_id} ({title}, {category}) "
    "is with {agency}: {status} by {resolve_due_date}",
}


def templates_path(agency_id: int) -> str:
    return f"/api/v1/agencies/{agency_id}/response-templates"


async def create(
    client: httpx.AsyncClient, settings: Settings, user: User, agency_id: int, **body: Any
) -> httpx.Response:
    return await client.post(
        templates_path(agency_id), headers=who(settings, user), json={**BODIES, **body}
    )


async def test_managers_write_templates_agents_read_them_others_may_not(
    client: httpx.AsyncClient, settings: Settings, db: Session, city: City
) -> None:
    manager = make_user(db, Role.manager, agency=city.west)
    created = await create(client, settings, manager, city.west.id)
    assert created.status_code == 201, created.text
    template_id = created.json()["id"]
    path = f"{templates_path(city.west.id)}/{template_id}"
    for reader in (city.agent, manager, city.admin):
        listed = await client.get(templates_path(city.west.id), headers=who(settings, reader))
        assert [t["name"] for t in listed.json()] == ["Received"]
        assert (await client.get(path, headers=who(settings, reader))).status_code == 200
    for outsider in (city.rival, city.east_agent, city.stranger):
        listed = await client.get(templates_path(city.west.id), headers=who(settings, outsider))
        assert listed.status_code == 403
        assert (await client.get(path, headers=who(settings, outsider))).status_code == 403
    assert (await client.get(templates_path(city.west.id))).status_code == 401
    # Agents use them but do not write them.
    assert (await create(client, settings, city.agent, city.west.id, name="x")).status_code == 403
    edit = await client.patch(path, headers=who(settings, city.agent), json={"name": "y"})
    assert edit.status_code == 403
    # Another agency's manager writes only their own agency's.
    assert (await create(client, settings, city.east_agent, city.west.id)).status_code == 403
    renamed = await client.patch(path, headers=who(settings, manager), json={"name": "Thanks"})
    assert renamed.json()["name"] == "Thanks"
    by_admin = await create(client, settings, city.admin, city.west.id, name="By admin")
    assert by_admin.status_code == 201
    deleted = await client.delete(path, headers=who(settings, manager))
    assert deleted.status_code == 204
    assert (await client.get(path, headers=who(settings, manager))).status_code == 404
    # Ids of another agency's template name nothing under this agency.
    elsewhere = f"{templates_path(city.east.id)}/{by_admin.json()['id']}"
    assert (await client.get(elsewhere, headers=who(settings, city.admin))).status_code == 404


async def test_names_are_unique_within_an_agency(
    client: httpx.AsyncClient, settings: Settings, db: Session, city: City
) -> None:
    assert (await create(client, settings, city.admin, city.west.id)).status_code == 201
    again = await create(client, settings, city.admin, city.west.id)
    assert again.status_code == 409
    assert (await create(client, settings, city.admin, city.east.id)).status_code == 201


async def test_unknown_placeholders_and_malformed_braces_are_named_with_the_allowed_set(
    client: httpx.AsyncClient, settings: Settings, db: Session, city: City
) -> None:
    manager = make_user(db, Role.manager, agency=city.west)
    cases = [
        ({"body_en": "Dear {reporter_name}, see {url}"}, "unknown_placeholder", "{reporter_name}"),
        ({"body_th": "ถึง {name}"}, "unknown_placeholder", "{name}"),
        ({"body_en": "Issue {issue_id"}, "malformed_placeholder", "body_en"),
        ({"body_en": "Issue issue_id}"}, "malformed_placeholder", "body_en"),
        ({"body_en": "Positional {}"}, "unknown_placeholder", "{}"),
        ({"body_en": "Index {0}"}, "unknown_placeholder", "{0}"),
        ({"body_en": "Attribute {title.upper}"}, "unknown_placeholder", "{title.upper}"),
        ({"body_en": "Conversion {title!r}"}, "malformed_placeholder", "{title}"),
        ({"body_en": "Format {title:>40}"}, "malformed_placeholder", "{title}"),
    ]
    for body, code, named in cases:
        response = await create(client, settings, manager, city.west.id, **body)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        assert problem_type(response) == "invalid-template"
        assert named in problem["detail"], problem
        assert "{resolve_due_date}" in problem["detail"]
        assert problem["allowed_placeholders"] == [f"{{{p}}}" for p in PLACEHOLDERS]
        assert [e["code"] for e in problem["errors"]] == [code]
    # Both bodies are checked; each one's problem is listed.
    both = await create(client, settings, manager, city.west.id, body_th="{ผิด}", body_en="{wrong}")
    assert {e["location"] for e in both.json()["errors"]} == {"body.body_th", "body.body_en"}
    # An edit is checked the same way, in the reader's language.
    created = await create(client, settings, manager, city.west.id)
    path = f"{templates_path(city.west.id)}/{created.json()['id']}"
    edit = await client.patch(
        path,
        headers={**who(settings, manager), "Accept-Language": "th"},
        json={"body_en": "{oops}"},
    )
    assert edit.status_code == 422
    assert "ตัวแทนค่าที่ไม่รู้จัก" in edit.json()["detail"]
    assert db.scalar(select(ResponseTemplate.body_en)) == BODIES["body_en"]
    # Escaped braces are text, not placeholders.
    literal = await create(client, settings, manager, city.west.id, name="b", body_en="{{x}} ok")
    assert literal.status_code == 201


async def test_bad_template_bodies_are_refused(
    client: httpx.AsyncClient, settings: Settings, db: Session, city: City
) -> None:
    for body in (
        {"name": ""},
        {"name": "x" * 101},
        {"body_th": ""},
        {"body_en": "x" * 4001},
        {"body_en": "nul \x00"},
        {"extra": 1},
    ):
        response = await create(client, settings, city.admin, city.west.id, **body)
        assert response.status_code == 422, body
    path = f"{templates_path(city.west.id)}"
    missing = await client.post(path, headers=who(settings, city.admin), json={"name": "x"})
    assert missing.status_code == 422
    created = await create(client, settings, city.admin, city.west.id)
    edit = await client.patch(
        f"{path}/{created.json()['id']}", headers=who(settings, city.admin), json={"name": None}
    )
    assert edit.status_code == 422
    assert (await create(client, settings, city.admin, 999999)).status_code == 404


async def test_staff_answer_from_a_template_with_the_issues_real_values(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    city.reporter.language = Language.th  # rendered in the reporter's language
    db.commit()
    issue_id = report(db, database, city)
    created = await create(client, settings, city.admin, city.west.id)
    template_id = created.json()["id"]
    # Only once claimed: the handling agency answers from its own templates.
    early = await comment(client, who(settings, city.agent), issue_id, template_id=template_id)
    assert early.status_code == 403
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    issue = (await client.get(f"/api/v1/issues/{issue_id}")).json()
    due = dt.datetime.fromisoformat(issue["resolve_due_at"])
    local_due = due.astimezone(ZoneInfo(settings.display_timezone)).date().isoformat()
    answered = await comment(client, who(settings, city.agent), issue_id, template_id=template_id)
    assert answered.status_code == 201, answered.text
    body = answered.json()["body"]
    assert body.startswith(f"เรื่อง {issue_id} (Broken street light, {city.category.name_th})")
    assert body.endswith(f"อยู่กับ {city.west.name_th}: {ACKNOWLEDGED_TH} ภายใน {local_due}")
    assert answered.json()["template_id"] == template_id
    both = await comment(
        client, who(settings, city.agent), issue_id, template_id=template_id, language="both"
    )
    th, en = both.json()["body"].split("\n\n")
    assert en.startswith(f"Issue {issue_id} (Broken street light, {city.category.name_en})")
    assert f"is with {city.west.name_en}" in en
    assert th.startswith("เรื่อง")
    english = await comment(
        client, who(settings, city.agent), issue_id, template_id=template_id, language="en"
    )
    assert english.json()["body"] == en
    assert en.endswith(f"is with {city.west.name_en}: Acknowledged by {local_due}")
    # A note may come from a template too.
    note = await comment(
        client, who(settings, city.agent), issue_id, template_id=template_id, internal=True
    )
    assert note.json()["kind"] == "note"


async def test_templates_are_the_handling_agencys_own(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    east = await create(client, settings, city.admin, city.east.id)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    other = await comment(
        client, who(settings, city.agent), issue_id, template_id=east.json()["id"]
    )
    assert other.status_code == 404
    assert (
        await comment(client, who(settings, city.agent), issue_id, template_id=999999)
    ).status_code == 404
    for user in (city.reporter, city.rival, city.admin):
        refused = await comment(
            client, who(settings, user), issue_id, template_id=east.json()["id"]
        )
        assert refused.status_code == 403, user


async def test_the_default_language_is_the_reporters(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    city.reporter.language = Language.en
    db.commit()
    issue_id = report(db, database, city)
    created = await create(client, settings, city.admin, city.west.id)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    answered = await comment(
        client, who(settings, city.agent), issue_id, template_id=created.json()["id"]
    )
    assert answered.json()["body"].startswith(f"Issue {issue_id}")
    assert "Acknowledged" in answered.json()["body"]
