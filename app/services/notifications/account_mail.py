"""Messages about a person's address: confirm a sign-up, "someone tried to sign up with your
address", reset a password, verify an address, confirm following an issue by e-mail. The last
two are all an address that is not verified ever receives.

Queued in the request's transaction like every other message, so sign-up and reset answer at
once and alike whoever the address belongs to; the worker sends them. The links are signed when
the message is sent: the outbox holds no usable secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from app import i18n
from app.errors import InvalidLink
from app.models import Channel, Language, Notification
from app.services.notifications.templates import Rendered
from app.services.notifications.tokens import api_link

# The outbox reason of these messages (issue messages say why their recipient hears of it).
REASON = "account"


class AccountMail(StrEnum):
    confirm = "account_confirm"
    exists = "account_exists"
    reset = "password_reset"
    verify = "email_verify"
    follow = "follow_confirm"


def password_fingerprint(password_hash: str) -> str:
    """Changes whenever the password does: a reset link works only for the password it was
    sent against, so it works once."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


class AccountLinks:
    """Signs and reads the tokens of account messages (each kind with its own salt)."""

    def __init__(self, secret_key: str) -> None:
        self._confirm = URLSafeTimedSerializer(secret_key, salt="civicloop.sign-up")
        self._reset = URLSafeTimedSerializer(secret_key, salt="civicloop.password-reset")
        self._verify = URLSafeTimedSerializer(secret_key, salt="civicloop.verify-email")
        self._follow = URLSafeTimedSerializer(secret_key, salt="civicloop.follow-by-email")

    def confirm_token(self, registration_id: int) -> str:
        return self._confirm.dumps(registration_id)

    def reset_token(self, user_id: int, fingerprint: str) -> str:
        return self._reset.dumps([user_id, fingerprint])

    def verify_token(self, user_id: int, email: str) -> str:
        return self._verify.dumps([user_id, email])

    def follow_token(self, issue_id: int, email: str, language: str) -> str:
        return self._follow.dumps([issue_id, email, language])

    def read_verify(self, token: str, *, max_age: dt.timedelta) -> tuple[int, str]:
        claim = _load(self._verify, token, max_age)
        if not (
            isinstance(claim, list)
            and len(claim) == 2
            and type(claim[0]) is int
            and isinstance(claim[1], str)
        ):
            raise InvalidLink(i18n.text("error.link.foreign"))
        return claim[0], claim[1]

    def read_follow(self, token: str, *, max_age: dt.timedelta) -> tuple[int, str, Language]:
        claim = _load(self._follow, token, max_age)
        if not (
            isinstance(claim, list)
            and len(claim) == 3
            and type(claim[0]) is int
            and isinstance(claim[1], str)
            and claim[2] in Language.__members__
        ):
            raise InvalidLink(i18n.text("error.link.foreign"))
        return claim[0], claim[1], Language(claim[2])

    def read_confirm(self, token: str, *, max_age: dt.timedelta) -> int:
        registration_id = _load(self._confirm, token, max_age)
        if type(registration_id) is not int:
            raise InvalidLink(i18n.text("error.link.foreign"))
        return registration_id

    def read_reset(self, token: str, *, max_age: dt.timedelta) -> tuple[int, str]:
        claim = _load(self._reset, token, max_age)
        if not (
            isinstance(claim, list)
            and len(claim) == 2
            and type(claim[0]) is int
            and isinstance(claim[1], str)
        ):
            raise InvalidLink(i18n.text("error.link.foreign"))
        return claim[0], claim[1]


def _load(serializer: URLSafeTimedSerializer, token: str, max_age: dt.timedelta) -> Any:
    try:
        return serializer.loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise InvalidLink(i18n.text("error.link.account_expired"), expired=True) from None
    except BadSignature:
        raise InvalidLink(i18n.text("error.link.foreign")) from None


def enqueue(
    session: Session,
    *,
    mail: AccountMail,
    to: str,
    language: Language,
    user_id: int | None = None,
    **payload: int | str,
) -> None:
    """Queue one account message to this address."""
    session.add(
        Notification(
            message_id=str(uuid.uuid4()),
            channel=Channel.email,
            destination=to,
            recipient_user_id=user_id,
            reason=REASON,
            template=mail.value,
            language=language.value,
            payload=payload,
        )
    )


def render(
    *,
    template: str,
    language: str,
    payload: dict[str, Any],
    recipient_user_id: int | None,
    links: AccountLinks,
    public_base_url: str,
) -> Rendered:
    lang = Language(language) if language in Language.__members__ else i18n.FALLBACK
    mail = AccountMail(template)

    def t(key: str, **params: Any) -> str:
        # A follow confirmation names its issue (every part may say which).
        return i18n.t(f"notify.{mail.value}.{key}", lang, issue=payload.get("issue", ""), **params)

    if mail == AccountMail.confirm:
        token = links.confirm_token(int(payload["registration_id"]))
        url = api_link(public_base_url, "/auth/register/confirm", token=token)
    elif mail == AccountMail.reset:
        assert recipient_user_id is not None, "a reset is mailed to an account"
        token = links.reset_token(recipient_user_id, str(payload["fingerprint"]))
        url = api_link(public_base_url, "/auth/password-reset/confirm", token=token)
    elif mail == AccountMail.verify:
        assert recipient_user_id is not None, "an address is verified for its account"
        token = links.verify_token(recipient_user_id, str(payload["email"]))
        url = api_link(public_base_url, "/auth/verify-email/confirm", token=token)
    elif mail == AccountMail.follow:
        token = links.follow_token(int(payload["issue_id"]), str(payload["email"]), lang.value)
        url = api_link(public_base_url, "/follow-by-email/confirm", token=token)
    else:
        url = api_link(public_base_url, "/auth/password-reset")
    headline = t("headline")
    lines = [headline, "", t("body"), "", t("link", url=url), "", t("ignore")]
    return Rendered(subject=t("subject"), headline=headline, text="\n".join(lines) + "\n")
