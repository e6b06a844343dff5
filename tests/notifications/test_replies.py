"""A reply to a notification e-mail becomes a comment on its issue: each recipient's messages
carry a reply address signed for them and the issue; `civicloop mail-in`'s SMTP receiver,
reached here over real SMTP, keeps only the text the replier wrote (no quoted message, no
signature) and adds it through the comment rules and allowance."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Comment, User
from app.services.notifications import replies
from app.services.notifications.channels.mail_in import receiver
from app.services.notifications.tokens import LinkSigner
from tests.lifecycle.helpers import City, act, report, stored_count, stored_issue
from tests.limits.conftest import GENEROUS, limits_on
from tests.notifications.helpers import delivered_mail
from tests.notifications.receivers import free_port

DOMAIN = "replies.example.org"
QUOTED = (
    "On Mon, 7 Dec 2026 at 10:02, civicloop <no-reply@civicloop.example>\n"
    "wrote:\n"
    "> West district has taken on this issue.\n"
    "> Status: Acknowledged\n"
)


@pytest.fixture
def reply_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"reply_domain": DOMAIN})


class MailIn:
    def __init__(self, port: int) -> None:
        self.port = port

    def send(self, message: EmailMessage, *, mail_from: str | None = None) -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            smtp.send_message(message, from_addr=mail_from)


def _mail_in(settings: Settings, database: Database) -> Iterator[MailIn]:
    port = free_port()
    smtp = receiver(settings, database, host="127.0.0.1", port=port)
    smtp.start()
    try:
        yield MailIn(port)
    finally:
        smtp.stop()


@pytest.fixture
def mail_in(reply_settings: Settings, database: Database) -> Iterator[MailIn]:
    yield from _mail_in(reply_settings, database)


def reply(to: str, sender: User, text: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"{sender.display_name} <{sender.email}>"
    message["To"] = to
    message["Subject"] = "Re: Broken street light"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def address_for(settings: Settings, user: User, issue_pk: int) -> str:
    return LinkSigner(settings.secret_key).reply_address(DOMAIN, user_id=user.id, issue_id=issue_pk)


async def test_a_reply_to_a_status_message_becomes_the_reporters_comment(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    reply_settings: Settings,
    city: City,
    mail_in: MailIn,
) -> None:
    issue_id = report(db, database, city)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    *_, message = [  # the receipt of the report, then the claim
        m for m in delivered_mail(database, reply_settings) if m["To"] == city.reporter.email
    ]
    reply_to = str(message["Reply-To"])
    assert reply_to.startswith("reply+")
    assert reply_to.endswith(f"@{DOMAIN}")
    assert len(reply_to.split("@")[0]) <= 64  # an e-mail address's local part

    written = "Thank you! It is worse now,\nthe hole is near the school gate."
    mail_in.send(reply(reply_to, city.reporter, f"{written}\n\n{QUOTED}\n-- \nSomchai\n"))

    comments = (await client.get(f"/api/v1/issues/{issue_id}/comments")).json()
    assert [(c["body"], c["author"]["role"]) for c in comments] == [(written, "citizen")]


def test_mail_for_an_address_we_did_not_sign_is_refused_at_rcpt(
    db: Session, database: Database, reply_settings: Settings, city: City, mail_in: MailIn
) -> None:
    issue = stored_issue(database, report(db, database, city))
    real = address_for(reply_settings, city.reporter, issue.id)
    forged = real.replace("reply+", "reply+9", 1)

    for to in (forged, real.replace(DOMAIN, "elsewhere.example.org"), f"nobody@{DOMAIN}"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            mail_in.send(reply(to, city.reporter, "Hello"))
        assert refused.value.recipients[to][0] == 550
    assert stored_count(database, Comment) == 0


def test_a_reply_from_another_address_or_with_only_quoted_text_is_bounced_with_the_reason(
    db: Session, database: Database, reply_settings: Settings, city: City, mail_in: MailIn
) -> None:
    issue = stored_issue(database, report(db, database, city))
    to = address_for(reply_settings, city.reporter, issue.id)

    with pytest.raises(smtplib.SMTPDataError) as forwarded:
        mail_in.send(reply(to, city.stranger, "I am not the reporter"))
    assert forwarded.value.smtp_code == 550
    assert b"only from the address the message was sent to" in forwarded.value.smtp_error
    with pytest.raises(smtplib.SMTPDataError) as empty:
        mail_in.send(reply(to, city.reporter, f"\n{QUOTED}"))
    assert empty.value.smtp_code == 550
    assert b"no text of its own" in empty.value.smtp_error
    assert stored_count(database, Comment) == 0


def test_out_of_office_answers_and_bounces_are_dropped_not_commented(
    db: Session, database: Database, reply_settings: Settings, city: City, mail_in: MailIn
) -> None:
    issue = stored_issue(database, report(db, database, city))
    to = address_for(reply_settings, city.reporter, issue.id)

    mail_in.send(reply(to, city.reporter, "I am away until Monday.", Auto_Submitted="auto-replied"))
    mail_in.send(reply(to, city.reporter, "Delivery failed."), mail_from="")

    assert stored_count(database, Comment) == 0


def test_replies_count_against_the_repliers_comment_allowance(
    db: Session, database: Database, reply_settings: Settings, city: City
) -> None:
    limited = limits_on(reply_settings, rate_limit_comment="1/year", rate_limit_comment_ip=GENEROUS)
    issue = stored_issue(database, report(db, database, city))
    to = address_for(limited, city.reporter, issue.id)
    for mail_in in _mail_in(limited, database):
        mail_in.send(reply(to, city.reporter, "First"))
        with pytest.raises(smtplib.SMTPDataError) as busy:
            mail_in.send(reply(to, city.reporter, "Second"))
        assert busy.value.smtp_code == 451  # a temporary failure: the sender's server retries
    assert stored_count(database, Comment) == 1


@pytest.mark.parametrize(
    ("body", "written"),
    [
        ("Fixed, thanks.\n\n" + QUOTED, "Fixed, thanks."),
        ("Still broken\n> quoted line\nmore quoted", "Still broken"),
        ("ยังไม่ได้ซ่อมครับ\n\nเมื่อ 7 ธ.ค. 2569 10:02 civicloop เขียนว่า:\n> ...", "ยังไม่ได้ซ่อมครับ"),
        ("See it\n\n-----Original Message-----\nFrom: civicloop", "See it"),
        ("Thanks\n\nSent from my iPhone", "Thanks"),
        ("Two\n\nparagraphs\n-- \nA. Signature", "Two\n\nparagraphs"),
    ],
)
def test_only_the_text_the_replier_wrote_is_kept(body: str, written: str) -> None:
    message = EmailMessage()
    message.set_content(body)
    assert replies.new_text(message) == written


async def test_without_a_reply_domain_messages_carry_no_reply_address(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200

    delivered = delivered_mail(database, settings)

    assert delivered
    assert all(m["Reply-To"] is None for m in delivered)
