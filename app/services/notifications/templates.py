"""What each message says, in Thai or English by the recipient's language.

Every message names what changed, the new status, who handles it, the expected time frame (the
issue's due dates) and a link to the issue; the reporter's "resolved" message adds the one-tap
answers. The texts live in the app/i18n catalogs under `notify.`, beside every other text for
people, so a translator edits one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from app import i18n
from app.models import Language

# A template name with this suffix is the easy-read version: what happened, where it stands,
# the one date that matters and the link; no notes, no rating scale (ContactNeed.easy_read).
EASY_READ = ".easy"


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
    *,
    template: str,
    language: str,
    payload: dict[str, Any],
    links: Links,
    timezone: str,
    auto_close_after: dt.timedelta,
) -> Rendered:
    """The message in the reader's language only: what a person wrote is quoted as written and
    labelled as theirs; everything else (statuses, reasons, steps, what the system says) comes
    from the catalog."""
    lang = Language(language) if language in Language.__members__ else i18n.FALLBACK

    def t(key: str, **params: Any) -> str:
        return i18n.t(f"notify.{key}", lang, **params)

    zone = ZoneInfo(timezone)
    easy = template.endswith(EASY_READ)
    template = template.removesuffix(EASY_READ)
    issue, event = payload["issue"], payload["event"]
    agency = issue["agency"]
    agency_name = agency[f"name_{lang.value}"] if agency else t("an_agency")
    category = issue["category"][f"name_{lang.value}"]
    status = t(f"status.{issue['status']}")
    if template == "issue_update":
        subject = t("subject.issue_update", title=issue["title"], status=status)
        # Snapshots queued before priorities were recorded carry none.
        priority = t(f"priority.{issue.get('priority', 'normal')}")
        headline = t(
            f"action.{event['action']}",
            agency=agency_name,
            priority=priority,
            related=event.get("related_issue") or "",
        )
    else:
        subject = t(f"subject.{template}", title=issue["title"])
        headline = t(f"intro.{template}", category=category)
    lines = [headline, ""]
    if not easy:
        lines.append(t("line.issue", id=issue["id"], title=issue["title"], category=category))
    lines.append(t("line.status", status=status))
    if not easy:
        lines.append(t("line.agency", agency=agency_name) if agency else t("line.no_agency"))
    verdict = event.get("verdict")
    if verdict:
        lines.append(
            t(
                f"line.verdict.{verdict['outcome']}",
                step=t(f"step.{verdict['step']}"),
                when=_when(verdict["due_at"], zone),
            )
        )
    if issue["status"] in ("resolved", "closed") and issue.get("resolution"):
        resolution = i18n.t(f"label.resolution.{issue['resolution']}", lang)
        lines.append(t("line.resolution", resolution=resolution))
    lines += _next_step(t, issue, event, zone, auto_close_after)
    if event.get("message") and not easy:
        message = event["message"]
        lines.append(i18n.restored(message["key"], message["params"]).render(lang))
    if event.get("note") and not easy:
        # Notes are shown as their writer wrote them, in whatever language that was.
        by_staff = event.get("actor_role") in ("agent", "manager", "admin")
        lines.append(
            t("line.note", agency=agency_name, note=event["note"])
            if by_staff
            else t("line.note_citizen", note=event["note"])
        )
    if event.get("comment") and not easy:
        lines.append(t("line.comment", comment=event["comment"]))
    lines.append(t("line.link", url=links.issue))
    if links.fixed and links.not_fixed:
        lines += ["", t("line.ask"), t("line.fixed", url=links.fixed)]
        lines.append(t("line.not_fixed", url=links.not_fixed))
        if not easy:
            lines.append(t("line.rate"))
            lines += [f"  {score}: {url}" for score, url in sorted(links.ratings.items())]
    if links.unsubscribe:
        lines += ["", "--", t("line.unsubscribe", url=links.unsubscribe)]
    return Rendered(subject=subject, headline=headline, text="\n".join(lines) + "\n")


def _next_step(
    t: Callable[..., str],
    issue: dict[str, Any],
    event: dict[str, Any],
    zone: ZoneInfo,
    auto_close_after: dt.timedelta,
) -> list[str]:
    """The step the issue waits for now and its time frame."""
    status = issue["status"]
    if status == "open":
        lines = [t("line.acknowledge_by", when=_when(issue["acknowledge_due_at"], zone))]
        # A new priority moves both dates: both are news then.
        if event["action"] == "priority_changed":
            lines.append(t("line.resolve_by", when=_when(issue["resolve_due_at"], zone)))
        return lines
    if status in ("acknowledged", "in_progress"):
        return [t("line.resolve_by", when=_when(issue["resolve_due_at"], zone))]
    if status == "resolved" and issue.get("resolved_at"):
        closes = dt.datetime.fromisoformat(issue["resolved_at"]) + auto_close_after
        return [t("line.closes_by", when=_when(closes.isoformat(), zone))]
    return [t("line.nothing_due")]
