"""Every message a person reads exists in Thai and in English, and each is in its reader's
script only: a Thai message has no English fragment, an English one no Thai. Checked on every
catalog key, and on every notification the outbox can queue, rendered in both languages."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import string
from typing import Any

import pytest

from app import i18n
from app.models import EventAction, IssueStatus, Language, Resolution
from app.services.notifications.outbox import TEMPLATE_OF
from app.services.notifications.templates import EASY_READ, Links, render
from app.services.timeframes import Verdict

THAI = re.compile("[\u0e00-\u0e7f]")
LATIN = re.compile("[A-Za-z]")
# Keys whose texts people read in messages and labels (errors may name HTTP headers and JSON
# fields, which stay in Latin letters in any language).
MESSAGE_PREFIXES = ("notify.", "message.", "label.")
# The product's name is written the same in every language.
NAMES = ("civicloop",)
# Texts made of placeholders and punctuation only.
NO_WORDS = {"notify.subject.issue_update"}
# What the renderer fills in from data (titles, names, links, the time zone): never checked.
DATA = "\u2983x\u2984"


def _literal(text: str) -> str:
    """A catalog text without its placeholders and the product's name."""
    literal = "".join(part for part, _, _, _ in string.Formatter().parse(text))
    for name in NAMES:
        literal = literal.replace(name, "")
    return literal


def wrong_script(text: str, lang: Language) -> bool:
    if lang == Language.th:
        return bool(LATIN.search(text)) or not THAI.search(text)
    return bool(THAI.search(text))


def test_both_catalogs_hold_every_key() -> None:
    thai, english = i18n.catalog(Language.th), i18n.catalog(Language.en)
    assert sorted(set(english) - set(thai)) == []
    assert sorted(set(thai) - set(english)) == []


@pytest.mark.parametrize("lang", list(Language))
def test_every_message_key_is_in_its_readers_script(lang: Language) -> None:
    wrong = {
        key: text
        for key, text in i18n.catalog(lang).items()
        if key.startswith(MESSAGE_PREFIXES)
        and key not in NO_WORDS
        and wrong_script(_literal(text), lang)
    }
    assert wrong == {}


def test_no_english_text_holds_thai() -> None:
    assert {k: v for k, v in i18n.catalog(Language.en).items() if THAI.search(v)} == {}


def _payload(action: EventAction, status: IssueStatus, verdict: Verdict | None) -> dict[str, Any]:
    due = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC).isoformat()
    resolved = status in (IssueStatus.resolved, IssueStatus.closed)
    agency = {"id": 1, "slug": "a", "name_th": DATA, "name_en": DATA}
    return {
        "issue": {
            "pk": 1,
            "id": DATA,
            "title": DATA,
            "category": {"code": "c", "name_th": DATA, "name_en": DATA},
            "status": status.value,
            "resolution": Resolution.fixed.value if resolved else None,
            "priority": "high",
            "agency": agency,
            "latitude": 13.7,
            "longitude": 100.5,
            "acknowledge_due_at": due,
            "resolve_due_at": due,
            "resolved_at": due if resolved else None,
        },
        "event": {
            "action": action.value,
            "from_status": None,
            "to_status": status.value,
            # Words people wrote are theirs, in any language: never checked.
            "note": DATA,
            "message": {
                "key": "message.priority_changed",
                "params": {
                    "old": {"text": "label.priority.low", "params": {}},
                    "new": {"text": "label.priority.high", "params": {}},
                    "flags": [{"text": "label.flag.safety_hazard", "params": {}}],
                },
            },
            "comment": DATA,
            "verdict": {"step": "resolve", "outcome": verdict.value, "due_at": due}
            if verdict
            else None,
            "is_public": True,
            "actor_role": "agent",
            "at": due,
            "related_issue": DATA,
        },
    }


LINKS = Links(
    issue=DATA,
    unsubscribe=DATA,
    fixed=DATA,
    not_fixed=DATA,
    ratings=dict.fromkeys(range(1, 6), DATA),
)
TEMPLATES = sorted({t for t in TEMPLATE_OF.values() if t != "webhook_event"})


@pytest.mark.parametrize("lang", list(Language))
@pytest.mark.parametrize("template", [*TEMPLATES, *(t + EASY_READ for t in TEMPLATES)])
def test_every_notification_renders_in_one_script(template: str, lang: Language) -> None:
    """Each template, for each step an event can record, in each status and with each verdict:
    no key is missing, and nothing but the data is in another script."""
    cases = itertools.product(EventAction, IssueStatus, [None, *Verdict])
    for action, status, verdict in cases:
        rendered = render(
            template=template,
            language=lang.value,
            payload=_payload(action, status, verdict),
            links=LINKS,
            timezone="Asia/Bangkok",
            auto_close_after=dt.timedelta(days=7),
        )
        for part in (rendered.subject, rendered.text):
            words = part.replace(DATA, "").replace("Asia/Bangkok", "").replace("civicloop", "")
            assert not wrong_script(words, lang), (action, status, verdict, part)
