"""The closed loop as a resident and a clerk live it, through a real SMTP server, in Thai and in
English: report → claim → resolve → "not fixed" → reopen → resolve → "fixed" with stars and a
comment. Every message is read for its content (the agency, the step, the next step's time
frame, whether the step was early, on time or late) and must be in its reader's script only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Issue, Language
from tests.factories import bearer, if_match
from tests.languages.test_messages import wrong_script
from tests.lifecycle.helpers import City, act, stored_issue
from tests.notifications.helpers import api_path, delivered_mail

ZONE = ZoneInfo("Asia/Bangkok")


@dataclass(frozen=True)
class Words:
    """What each message must say, in one language."""

    title: str
    received: str
    no_agency: str
    claimed: str  # {agency}
    handled_by: str  # {agency}
    ack_next: str  # {when}
    resolve_next: str  # {when}
    early: str  # {step} {when}
    late: str
    ack_step: str
    resolve_step: str
    outcome_fixed: str
    closes: str  # {when}
    fixed_link: str
    not_fixed_link: str
    reopened_subject: str
    reopened_intro: str
    says_not_fixed: str
    confirmed: str
    comment: str  # {comment}
    closed: str
    nothing_due: str
    agency_comment: str


WORDS = {
    Language.en: Words(
        title="Lamp out on Soi 5",
        received="The report was received.",
        no_agency="Handled by: no agency has taken it on yet",
        claimed="{agency} has taken on this issue.",
        handled_by="Handled by: {agency}",
        ack_next="Next step: acknowledgement by an agency, expected by {when}",
        resolve_next="Next step: resolution, expected by {when}",
        early="This step ({step}) was done early: its target was {when}.",
        late="This step ({step}) was done late: its target was {when}.",
        ack_step="acknowledgement",
        resolve_step="resolution",
        outcome_fixed="Outcome: Fixed",
        closes="Next step: unless the reporter says it is not fixed, it is closed on {when}",
        fixed_link="Yes, it is fixed",
        not_fixed_link="No, it is not fixed",
        reopened_subject="[civicloop] Reopened, back in your queue: Lamp out on Soi 5",
        reopened_intro="issue your agency resolved was reopened and is back in your queue.",
        says_not_fixed="The reporter says it is not fixed.",
        confirmed="The reporter confirmed it is fixed.",
        comment="Comment, as written: {comment}",
        closed="The issue is closed.",
        nothing_due="Next step: none, nothing more is due.",
        agency_comment="There is a new comment on this issue.",
    ),
    Language.th: Words(
        title="ไฟดับที่ซอย 5",
        received="ได้รับรายงานของคุณแล้ว",
        no_agency="หน่วยงานที่รับผิดชอบ: ยังไม่มีหน่วยงานรับเรื่อง",
        claimed="{agency} รับเรื่องนี้แล้ว",
        handled_by="หน่วยงานที่รับผิดชอบ: {agency}",
        ack_next="ขั้นตอนถัดไป: หน่วยงานรับเรื่อง คาดว่าภายใน {when}",
        resolve_next="ขั้นตอนถัดไป: แก้ไขปัญหา คาดว่าเสร็จภายใน {when}",
        early="ขั้นตอนนี้ ({step}) เสร็จก่อนกำหนด: กำหนดไว้ {when}",
        late="ขั้นตอนนี้ ({step}) เสร็จล่าช้ากว่ากำหนด: กำหนดไว้ {when}",
        ack_step="การรับเรื่อง",
        resolve_step="การแก้ไข",
        outcome_fixed="ผลการดำเนินการ: แก้ไขเรียบร้อย",
        closes="ขั้นตอนถัดไป: หากผู้แจ้งไม่แจ้งว่ายังไม่ได้แก้ไข จะปิดเรื่องในวันที่ {when}",
        fixed_link="ใช่ แก้ไขแล้ว",
        not_fixed_link="ยังไม่ได้แก้ไข",
        reopened_subject="[civicloop] เปิดเรื่องอีกครั้ง กลับเข้าคิวของหน่วยงาน: ไฟดับที่ซอย 5",
        reopened_intro="ที่หน่วยงานของคุณแก้ไขแล้ว ถูกเปิดอีกครั้งและกลับเข้าคิวของหน่วยงาน",
        says_not_fixed="ผู้แจ้งแจ้งว่ายังไม่ได้แก้ไข",
        confirmed="ผู้แจ้งยืนยันว่าแก้ไขเรียบร้อยแล้ว",
        comment="ความคิดเห็น (ตามที่เขียนไว้): {comment}",
        closed="ปิดเรื่องนี้แล้ว",
        nothing_due="ขั้นตอนถัดไป: ไม่มี ไม่มีสิ่งใดค้างอยู่แล้ว",
        agency_comment="มีความคิดเห็นใหม่ในเรื่องนี้",
    ),
}


def when(value: dt.datetime) -> str:
    return value.astimezone(ZONE).strftime("%Y-%m-%d %H:%M (Asia/Bangkok)")


def one(messages: list[EmailMessage], to: str) -> str:
    """The text of the one message to this address."""
    found = [m for m in messages if m["To"] == to]
    assert len(found) == 1, [m["Subject"] for m in found]
    text: str = found[0].get_content()
    return text


def in_script(text: str, lang: Language, *data: str) -> None:
    """Nothing but the data (names, title, links, dates) is in another script."""
    words = text
    for value in (*data, "Asia/Bangkok", "civicloop"):
        words = words.replace(value, "")
    words = "\n".join(line for line in words.splitlines() if "://" not in line)
    assert not wrong_script(words, lang), text


def token_of(text: str, label: str) -> str:
    line = next(line for line in text.splitlines() if line.strip().startswith(label))
    return api_path(line.rsplit(" ", 1)[-1]).split("token=", 1)[1].split("&", 1)[0]


@pytest.mark.parametrize("lang", [Language.th, Language.en])
async def test_the_whole_loop_tells_each_person_what_they_need_in_their_language(
    lang: Language,
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    db: Session,
    city: City,
) -> None:
    w = WORDS[lang]
    for person in (city.reporter, city.agent):
        person.language = lang
    db.commit()
    agency = city.west.name_th if lang == Language.th else city.west.name_en
    category = city.category.name_th if lang == Language.th else city.category.name_en
    data = (agency, category, w.title, city.metro.name_th, city.metro.name_en)
    reporter, agent = city.reporter.email, city.agent.email
    assert reporter is not None
    assert agent is not None
    as_reporter = bearer(settings, city.reporter)

    # 1. The report: a receipt saying no one has it yet and when it should be acknowledged.
    reported = await client.post(
        "/api/v1/issues",
        headers=as_reporter,
        json={"category": "pothole", "title": w.title, "latitude": 13.72, "longitude": 100.52},
    )
    assert reported.status_code == 201, reported.text
    issue_id = reported.json()["id"]
    issue = stored_issue(database, issue_id)
    mail = delivered_mail(database, settings)
    receipt = one(mail, reporter)
    assert w.received in receipt
    assert w.no_agency in receipt
    assert w.ack_next.format(when=when(issue.acknowledge_due_at)) in receipt
    in_script(receipt, lang, *data, issue_id)
    in_script(one(mail, agent), lang, *data, issue_id)

    # 2. The claim: the agency named, acknowledgement early, resolution due next.
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    claimed = one(delivered_mail(database, settings), reporter)
    assert w.claimed.format(agency=agency) in claimed
    assert w.handled_by.format(agency=agency) in claimed
    assert w.early.format(step=w.ack_step, when=when(issue.acknowledge_due_at)) in claimed
    assert w.resolve_next.format(when=when(issue.resolve_due_at)) in claimed
    in_script(claimed, lang, *data, issue_id)

    # 3. Resolved early: the outcome, when it closes by itself, the one-tap answers.
    resolved = await act(client, settings, city.agent, issue_id, "resolve", resolution="fixed")
    assert resolved.status_code == 200, resolved.text
    issue = stored_issue(database, issue_id)
    assert issue.resolved_at is not None
    first_resolution = one(delivered_mail(database, settings), reporter)
    assert w.early.format(step=w.resolve_step, when=when(issue.resolve_due_at)) in first_resolution
    assert w.outcome_fixed in first_resolution
    closes_at = issue.resolved_at + settings.auto_close_after
    assert w.closes.format(when=when(closes_at)) in first_resolution
    in_script(first_resolution, lang, *data, issue_id)

    # 4. "Not fixed", in the reporter's words: a reopening, and the agency's staff are told.
    answered = await client.post(
        "/api/v1/feedback",
        json={
            "token": token_of(first_resolution, w.not_fixed_link),
            "answer": "not_fixed",
            "rating": 1,
            "comment": "ยังมืดอยู่ / still dark",
        },
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "acknowledged"
    assert stored_issue(database, issue_id).reopen_count == 1
    mail = delivered_mail(database, settings)
    to_agency = next(m for m in mail if m["To"] == agent)
    assert to_agency["Subject"] == w.reopened_subject
    disputed = to_agency.get_content()
    assert w.reopened_intro in disputed
    assert w.says_not_fixed in disputed
    # The reporter's words as written, labelled as a comment (not translated, not checked).
    assert w.comment.format(comment="ยังมืดอยู่ / still dark") in disputed
    assert w.resolve_next.format(when=when(issue.resolve_due_at)) in disputed
    in_script(disputed, lang, *data, issue_id, "ยังมืดอยู่ / still dark")
    in_script(one(mail, reporter), lang, *data, issue_id, "ยังมืดอยู่ / still dark")

    # 5. Resolved again, after its deadline this time: the message says it was late.
    late_due = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with database.session(write=True) as session, session.begin():
        session.execute(
            update(Issue).where(Issue.public_id == issue_id).values(resolve_due_at=late_due)
        )
    again = await act(client, settings, city.agent, issue_id, "resolve", resolution="fixed")
    assert again.status_code == 200, again.text
    second_resolution = one(delivered_mail(database, settings), reporter)
    assert w.late.format(step=w.resolve_step, when=when(late_due)) in second_resolution
    in_script(second_resolution, lang, *data, issue_id)

    # 6. "Fixed", five stars and a comment: closed, and the receipt says so.
    thanks = "ขอบคุณครับ / thank you"
    answered = await client.post(
        "/api/v1/feedback",
        json={
            "token": token_of(second_resolution, w.fixed_link),
            "answer": "fixed",
            "rating": 5,
            "comment": thanks,
        },
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "closed"
    closed = one(delivered_mail(database, settings), reporter)
    assert w.closed in closed
    assert w.confirmed in closed
    assert w.comment.format(comment=thanks) in closed
    assert w.nothing_due in closed
    in_script(closed, lang, *data, issue_id, thanks)

    # 7. The agency sees both answers with their stars and comments on its view of the issue.
    as_agent = bearer(settings, city.agent)
    staff_view = (await client.get(f"/api/v1/issues/{issue_id}", headers=as_agent)).json()
    assert [(f["answer"], f["rating"], f["comment"]) for f in staff_view["feedback"]] == [
        ("not_fixed", 1, "ยังมืดอยู่ / still dark"),
        ("fixed", 5, thanks),
    ]
    public_view = (await client.get(f"/api/v1/issues/{issue_id}")).json()
    assert public_view["feedback"] == []

    # 8. On the public timeline the comments are moderated like any: hidden, they are gone.
    public = (await client.get(f"/api/v1/issues/{issue_id}/comments")).json()
    assert [c["body"] for c in public] == ["ยังมืดอยู่ / still dark", thanks]
    first_comment = staff_view["feedback"][0]["comment_id"]
    hidden = await client.patch(
        f"/api/v1/comments/{first_comment}",
        headers=as_agent,
        json={"hidden": True, "reason": "off topic"},
    )
    assert hidden.status_code == 200, hidden.text
    public = (await client.get(f"/api/v1/issues/{issue_id}/comments")).json()
    assert [c["body"] for c in public if c.get("body")] == [thanks]

    # 9. The agency answers; the reporter hears of it in their language.
    answer = await client.post(
        f"/api/v1/issues/{issue_id}/comments",
        headers=await if_match(client, issue_id, as_agent),
        json={"body": "ขอบคุณที่แจ้ง / thanks for telling us"},
    )
    assert answer.status_code == 201, answer.text
    reply = one(delivered_mail(database, settings), reporter)
    assert w.agency_comment in reply
    assert w.comment.format(comment="ขอบคุณที่แจ้ง / thanks for telling us") in reply
    in_script(reply, lang, *data, issue_id, "ขอบคุณที่แจ้ง / thanks for telling us")
