"""E-mail reaches a real SMTP server on loopback, in the recipient's language, with a stable
Message-ID and a one-click unsubscribe; plain, STARTTLS and TLS as the settings say."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Language
from tests.lifecycle.helpers import City, act, report
from tests.notifications.helpers import drain, due_now, outbox
from tests.notifications.receivers import SmtpServer, free_port, self_signed_cert


def smtp_settings(settings: Settings, port: int, **extra: object) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_from": "civicloop <loop@city.example>",
            **extra,
        }
    )


async def test_the_reporter_is_told_in_thai_what_changed_who_handles_it_and_by_when(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    city.reporter.language = Language.th
    db.commit()
    smtp = SmtpServer(free_port()).start()
    try:
        configured = smtp_settings(settings, smtp.port)
        issue_id = report(db, database, city)
        assert (
            await act(client, settings, city.agent, issue_id, "claim", note="ส่งทีมแล้ว")
        ).status_code == 200
        tally = drain(database, configured)
    finally:
        smtp.stop()
    rows = outbox(database, issue_id)
    assert tally.sent == len(rows)
    assert {r.status for r in rows} == {"sent"}
    to_reporter = [m for m in smtp.messages if m["To"] == city.reporter.email]
    assert len(to_reporter) == 2  # the receipt of the report, and the claim
    claim = next(m for m in to_reporter if "หน่วยงานรับเรื่องแล้ว" in m["Subject"])
    claim_row = next(
        r for r in rows if r.reason == "reporter" and r.payload["event"]["action"] == "claimed"
    )
    assert claim["Message-ID"] == f"<{claim_row.message_id}@city.example>"
    assert claim["Subject"] == "[civicloop] Broken street light: หน่วยงานรับเรื่องแล้ว"
    body = claim.get_content()
    assert f"{city.west.name_th} รับเรื่องนี้แล้ว" in body
    assert f"หน่วยงานที่รับผิดชอบ: {city.west.name_th}" in body
    assert "ขั้นตอนถัดไป: แก้ไขปัญหา คาดว่าเสร็จภายใน" in body
    assert "(Asia/Bangkok)" in body
    assert f"หมายเหตุจาก {city.west.name_th} (ตามที่เขียนไว้): ส่งทีมแล้ว" in body
    assert f"http://127.0.0.1:8000/api/v1/issues/{issue_id}" in body
    unsubscribe = claim["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://127.0.0.1:8000/api/v1/unsubscribe?token=")
    assert claim["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_english_speakers_get_english_and_staff_get_the_new_issue_alert(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    city.agent.language = Language.en
    db.commit()
    smtp = SmtpServer(free_port()).start()
    try:
        issue_id = report(db, database, city)
        drain(database, smtp_settings(settings, smtp.port))
    finally:
        smtp.stop()
    alert = next(m for m in smtp.messages if m["To"] == city.agent.email)
    assert alert["Subject"] == "[civicloop] New issue in your queue: Broken street light"
    body = alert.get_content()
    assert "Handled by: no agency has taken it on yet" in body
    assert "Next step: acknowledgement by an agency, expected by" in body
    assert issue_id in body


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_encrypted_smtp_as_configured(
    security: str, settings: Settings, database: Database, db: Session, city: City, tmp_path: Path
) -> None:
    cert = self_signed_cert(tmp_path)
    smtp = SmtpServer(free_port(), security=security, cert=cert).start()
    try:
        configured = smtp_settings(
            settings, smtp.port, smtp_host="localhost", smtp_security=security, smtp_ca_file=cert
        )
        report(db, database, city)
        tally = drain(database, configured)
    finally:
        smtp.stop()
    assert tally.sent == 3
    assert len(smtp.messages) == 3


async def test_a_server_that_is_down_is_retried_and_gets_the_message_when_it_is_back(
    settings: Settings, database: Database, db: Session, city: City
) -> None:
    port = free_port()
    configured = smtp_settings(settings, port)
    issue_id = report(db, database, city)
    first = drain(database, configured)
    assert first.sent == 0
    assert first.retried == 3
    rows = outbox(database, issue_id)
    assert {r.status for r in rows} == {"pending"}
    assert all("unreachable" in (r.last_error or "") for r in rows)
    assert all(r.attempts == 1 for r in rows)
    smtp = SmtpServer(port).start()
    try:
        due_now(database)
        second = drain(database, configured)
    finally:
        smtp.stop()
    assert second.sent == 3
    assert len(smtp.messages) == 3
    assert {r.status for r in outbox(database, issue_id)} == {"sent"}
