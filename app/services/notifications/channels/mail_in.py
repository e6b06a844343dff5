"""The SMTP receiver for replies (`civicloop mail-in`): it accepts mail only for reply
addresses it signed, reads the whole message, and only then opens a transaction to add the
comment, counted against the replier's comment allowance like a comment sent to the API."""

from __future__ import annotations

import asyncio
import email.policy
import logging
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

from app.config import Settings
from app.db import Database
from app.errors import DomainError, TooManyRequests
from app.http.limits import Action, Limiter
from app.models import Language
from app.services import city
from app.services.notifications import replies
from app.services.notifications.tokens import LinkSigner

log = logging.getLogger(__name__)


def _smtp_text(text: str) -> str:
    """An SMTP reply line is ASCII on one line; the sender's mail system shows it in a bounce."""
    return " ".join(text.encode("ascii", "replace").decode().split())[:400]


class ReplyHandler:
    """aiosmtpd's handler: RCPT accepts our reply addresses only, DATA turns the reply into
    comments (one per reply address it was sent to)."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.signer = LinkSigner(settings.secret_key)
        self.limiter = Limiter(settings)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            self.signer.read_reply_address(address, self.settings.reply_domain)
        except DomainError:
            return "550 5.1.1 No such reply address here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        if replies.is_automatic(message, envelope.mail_from):
            log.info("mail-in: dropped an automatic message from %r", envelope.mail_from)
            return "250 OK (automatic messages are not comments)"
        text, sender = replies.new_text(message), replies.sender_of(message)
        address = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        for rcpt in envelope.rcpt_tos:
            user_id, issue_id = self.signer.read_reply_address(rcpt, self.settings.reply_domain)
            try:
                if self.limiter.enabled:
                    await self.limiter.hit(Action.comment, address, f"user:{user_id}")
                await asyncio.to_thread(self._comment, user_id, issue_id, sender, text)
            except TooManyRequests as busy:
                return f"451 4.7.1 {_smtp_text(busy.detail_in(Language.en))}"
            except DomainError as refused:
                return f"550 5.7.1 {_smtp_text(refused.detail_in(Language.en))}"
        return "250 OK"

    def _comment(self, user_id: int, issue_id: int, sender: str, text: str) -> None:
        with self.database.session(write=True) as session, session.begin():
            replies.comment_from_reply(
                session,
                user_id=user_id,
                issue_id=issue_id,
                sender=sender,
                text=text,
                zone=city.time_zone(session, fallback=self.settings.display_timezone),
            )


def receiver(settings: Settings, database: Database, *, host: str, port: int) -> Controller:
    """The SMTP server for replies, not yet started; messages over mail_in_max_bytes are
    refused while they arrive (552)."""
    return Controller(
        ReplyHandler(settings, database),
        hostname=host,
        port=port,
        data_size_limit=settings.mail_in_max_bytes,
    )
