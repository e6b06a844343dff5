"""Replies to notification e-mails: the new text of a reply (quoted message and signature
left out) becomes a comment by the person the reply address was made for, through the same
rules as a comment sent to the API (hidden issues, visibility, length)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import i18n
from app.errors import FieldText, Forbidden, InvalidLink, ValidationFailed
from app.models import Comment, Issue, User
from app.schemas.conversation import CommentCreate
from app.services import conversation, issues

# Where the quoted message starts: the attribution line mail clients write above it (Gmail and
# Apple Mail may wrap it over two lines), or Outlook's separator and header block.
_QUOTE_START = re.compile(
    r"^(?:On\s.{0,300}?wrote:|เมื่อ.{0,300}?เขียน(?:ว่า)?:|-{2,}\s*Original Message\s*-{2,}"
    r"|-{2,}\s*ข้อความต้นฉบับ\s*-{2,}|_{10,}|From:\s.+\nSent:\s)",
    re.MULTILINE | re.DOTALL | re.IGNORECASE,
)
# Where a signature starts: the standard delimiter, or a phone's line.
_SIGNATURE = re.compile(r"^(?:-- ?|Sent from my .+|ส่งจาก.+ของฉัน|Get Outlook for .+)$", re.I)


def new_text(message: EmailMessage) -> str:
    """What the replier wrote themselves: the plain-text body down to the quoted message, the
    first quoted line or the signature, whichever comes first."""
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    assert isinstance(part, EmailMessage)
    text = str(part.get_content()).replace("\r\n", "\n")
    quoted = _QUOTE_START.search(text)
    if quoted:
        text = text[: quoted.start()]
    kept: list[str] = []
    for line in text.split("\n"):
        if line.startswith(">") or _SIGNATURE.match(line.rstrip()):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def is_automatic(message: EmailMessage, mail_from: str | None) -> bool:
    """Bounces, out-of-office answers and other machine mail: never a comment (and never
    answered, which could loop with our own automatic messages)."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    bounce = not mail_from or mail_from.strip() == "<>"  # the null reverse-path (RFC 5321)
    return bounce or auto != "no" or precedence in ("bulk", "junk", "auto_reply", "list")


def sender_of(message: EmailMessage) -> str:
    return parseaddr(str(message.get("From", "")))[1].strip().lower()


def comment_from_reply(
    session: Session, *, user_id: int, issue_id: int, sender: str, text: str, zone: ZoneInfo
) -> Comment:
    """The reply as a public comment by the address's recipient, sent from their own address;
    refused like the API refuses it (hidden or no longer visible issue, too long)."""
    user = session.get(User, user_id)
    if user is None or not user.is_active or not user.email:
        raise InvalidLink(i18n.text("error.reply.foreign"))
    if sender != user.email.lower():
        raise Forbidden(i18n.text("error.reply.sender"))
    public_id = session.scalar(select(Issue.public_id).where(Issue.id == issue_id))
    if public_id is None:
        raise InvalidLink(i18n.text("error.reply.foreign"))
    issue = issues.get_visible_issue(session, public_id, user)
    if not text:
        detail = i18n.text("error.reply.empty")
        raise ValidationFailed(detail, errors=[FieldText("body", detail, "missing")])
    try:
        body = CommentCreate(body=text).body
    except ValidationError:
        detail = i18n.text("error.reply.invalid")
        raise ValidationFailed(detail, errors=[FieldText("body", detail, "invalid")]) from None
    return conversation.add_comment(
        session, issue=issue, author=user, body=body, internal=False, zone=zone
    )
