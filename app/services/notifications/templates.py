"""What each message says, in Thai or English by the recipient's language.

Every message names what changed, the new status, who handles it, the expected time frame (the
issue's due dates) and a link to the issue; the reporter's "resolved" message adds the one-tap
answers. Strings live here, one table per language, so a translator edits one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "status.open": "received, waiting for an agency",
        "status.acknowledged": "acknowledged by the agency",
        "status.in_progress": "being worked on",
        "status.resolved": "resolved",
        "status.closed": "closed",
        "action.reported": "The report was received.",
        "action.claimed": "{agency} has taken on this issue.",
        "action.started": "{agency} started work on it.",
        "action.resolved": "{agency} marked it resolved.",
        "action.closed": "The issue is closed.",
        "action.reopened": "The issue was reopened and is back with {agency}.",
        "action.transferred": "The issue was transferred to {agency}.",
        "action.merged": "This report is about the same problem as issue {related}, so it was "
        "merged into that issue: you now follow it, and it counts your report.",
        "action.merged_in": "Another report of the same problem ({related}) was merged into "
        "this issue; its reporter and followers follow this one now.",
        "subject.issue_update": "[civicloop] {title}: {status}",
        "subject.agency_new_issue": "[civicloop] New issue in your queue: {title}",
        "subject.area_new_issue": "[civicloop] New report in your area: {title}",
        "intro.agency_new_issue": "A {category} issue arrived in your agency's queue.",
        "intro.area_new_issue": "Someone reported a {category} issue in an area you watch.",
        "line.issue": "Issue {id}: {title} ({category})",
        "line.status": "Status now: {status}",
        "line.agency": "Handled by: {agency}",
        "line.no_agency": "Handled by: no agency has taken it on yet",
        "line.acknowledge_by": "Expected acknowledgement by {when}",
        "line.resolve_by": "Expected resolution by {when}",
        "line.note": "Note: {note}",
        "line.link": "Details: {url}",
        "line.ask": "Is it really fixed? One tap answers:",
        "line.fixed": "  Yes, it is fixed: {url}",
        "line.not_fixed": "  No, it is not fixed: {url}",
        "line.rate": "How satisfied are you (1 = not at all, 5 = very)?",
        "line.unsubscribe": "Stop these messages: {url}",
        "an agency": "the agency",
    },
    "th": {
        "status.open": "รับเรื่องแล้ว รอหน่วยงานรับดำเนินการ",
        "status.acknowledged": "หน่วยงานรับเรื่องแล้ว",
        "status.in_progress": "กำลังดำเนินการ",
        "status.resolved": "แก้ไขแล้ว",
        "status.closed": "ปิดเรื่องแล้ว",
        "action.reported": "ได้รับรายงานของคุณแล้ว",
        "action.claimed": "{agency} รับเรื่องนี้แล้ว",
        "action.started": "{agency} เริ่มดำเนินการแล้ว",
        "action.resolved": "{agency} แจ้งว่าแก้ไขเรียบร้อยแล้ว",
        "action.closed": "ปิดเรื่องนี้แล้ว",
        "action.reopened": "เปิดเรื่องอีกครั้ง และส่งกลับไปยัง {agency}",
        "action.transferred": "โอนเรื่องไปยัง {agency}",
        "action.merged": "เรื่องนี้เป็นปัญหาเดียวกับเรื่อง {related} จึงรวมเข้ากับเรื่องนั้นแล้ว "
        "คุณจะได้รับความคืบหน้าของเรื่องนั้นแทน และรายงานของคุณถูกนับรวมไว้ด้วย",
        "action.merged_in": "มีรายงานปัญหาเดียวกัน ({related}) รวมเข้ากับเรื่องนี้แล้ว "
        "ผู้รายงานและผู้ติดตามเรื่องนั้นจะติดตามเรื่องนี้ด้วย",
        "subject.issue_update": "[civicloop] {title}: {status}",
        "subject.agency_new_issue": "[civicloop] เรื่องใหม่ในคิวของหน่วยงาน: {title}",
        "subject.area_new_issue": "[civicloop] มีรายงานใหม่ในพื้นที่ที่คุณติดตาม: {title}",
        "intro.agency_new_issue": "มีเรื่อง{category}ใหม่เข้าคิวของหน่วยงานคุณ",
        "intro.area_new_issue": "มีผู้รายงานเรื่อง{category}ในพื้นที่ที่คุณติดตาม",
        "line.issue": "เรื่อง {id}: {title} ({category})",
        "line.status": "สถานะ: {status}",
        "line.agency": "หน่วยงานที่รับผิดชอบ: {agency}",
        "line.no_agency": "หน่วยงานที่รับผิดชอบ: ยังไม่มีหน่วยงานรับเรื่อง",
        "line.acknowledge_by": "คาดว่าจะรับเรื่องภายใน {when}",
        "line.resolve_by": "คาดว่าจะแก้ไขเสร็จภายใน {when}",
        "line.note": "หมายเหตุ: {note}",
        "line.link": "รายละเอียด: {url}",
        "line.ask": "แก้ไขเรียบร้อยจริงหรือไม่? แตะเพื่อตอบ:",
        "line.fixed": "  ใช่ แก้ไขแล้ว: {url}",
        "line.not_fixed": "  ยังไม่ได้แก้ไข: {url}",
        "line.rate": "คุณพึงพอใจเพียงใด (1 = ไม่พอใจเลย, 5 = พอใจมาก)?",
        "line.unsubscribe": "หยุดรับข้อความเหล่านี้: {url}",
        "an agency": "หน่วยงาน",
    },
}


@dataclass(frozen=True)
class Links:
    """Absolute URLs the message carries; the answer links only in a reporter's resolved one."""

    issue: str
    unsubscribe: str | None = None
    fixed: str | None = None
    not_fixed: str | None = None
    ratings: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    subject: str
    headline: str
    text: str


def _when(value: str, zone: ZoneInfo) -> str:
    return (
        dt.datetime.fromisoformat(value).astimezone(zone).strftime(f"%Y-%m-%d %H:%M ({zone.key})")
    )


def render(
    *, template: str, language: str, payload: dict[str, Any], links: Links, timezone: str
) -> Rendered:
    t = TEXT.get(language, TEXT["en"])
    zone = ZoneInfo(timezone)
    issue, event = payload["issue"], payload["event"]
    agency = issue["agency"]
    agency_name = agency[f"name_{language}"] if agency else t["an agency"]
    category = issue["category"][f"name_{language}"]
    status = t[f"status.{issue['status']}"]
    if template == "issue_update":
        subject = t["subject.issue_update"].format(title=issue["title"], status=status)
        headline = t[f"action.{event['action']}"].format(
            agency=agency_name, related=event.get("related_issue") or ""
        )
    else:
        subject = t[f"subject.{template}"].format(title=issue["title"])
        headline = t[f"intro.{template}"].format(category=category)
    lines = [
        headline,
        "",
        t["line.issue"].format(id=issue["id"], title=issue["title"], category=category),
        t["line.status"].format(status=status),
        t["line.agency"].format(agency=agency_name) if agency else t["line.no_agency"],
    ]
    if issue["status"] == "open":
        lines.append(t["line.acknowledge_by"].format(when=_when(issue["acknowledge_due_at"], zone)))
    elif issue["status"] in ("acknowledged", "in_progress"):
        lines.append(t["line.resolve_by"].format(when=_when(issue["resolve_due_at"], zone)))
    if event.get("note"):
        lines.append(t["line.note"].format(note=event["note"]))
    lines.append(t["line.link"].format(url=links.issue))
    if links.fixed and links.not_fixed:
        lines += ["", t["line.ask"], t["line.fixed"].format(url=links.fixed)]
        lines.append(t["line.not_fixed"].format(url=links.not_fixed))
        lines.append(t["line.rate"])
        lines += [f"  {score}: {url}" for score, url in sorted(links.ratings.items())]
    if links.unsubscribe:
        lines += ["", "--", t["line.unsubscribe"].format(url=links.unsubscribe)]
    return Rendered(subject=subject, headline=headline, text="\n".join(lines) + "\n")
