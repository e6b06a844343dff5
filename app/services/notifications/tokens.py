"""Signed links that work without logging in: one-click unsubscribe and the reporter's answer.

Opening such a link only describes what it would do (mail scanners and link previews open every
link in a message); the action is the POST it describes, with the same token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from app import i18n
from app.errors import InvalidLink, NotFound

REPLY_PREFIX = "reply+"


def api_link(public_base_url: str, path: str, **query: str | int) -> str:
    """An absolute link into the API, from the configured public base URL (a request's Host
    header is the client's to forge)."""
    url = public_base_url.rstrip("/") + "/api/v1" + path
    return f"{url}?{urlencode(query)}" if query else url


def page_link(public_base_url: str, path: str, **query: str | int) -> str:
    """An absolute link to a page (app.web) for the person reading a message."""
    url = public_base_url.rstrip("/") + path
    return f"{url}?{urlencode(query)}" if query else url


@dataclass(frozen=True)
class FeedbackClaim:
    """Whose answer to which resolution of which issue a feedback link carries."""

    issue_id: int
    reporter_id: int
    resolved_at: dt.datetime


class LinkSigner:
    def __init__(self, secret_key: str) -> None:
        # Unsubscribing never expires: an old message's link must still work (RFC 8058).
        self._unsubscribe = URLSafeSerializer(secret_key, salt="civicloop.unsubscribe")
        self._feedback = URLSafeTimedSerializer(secret_key, salt="civicloop.feedback")
        # A contractor's link names its row; expiry and revocation are the row's, so the agency
        # can end a link early.
        self._contractor = URLSafeSerializer(secret_key, salt="civicloop.contractor")
        self._reply_key = hashlib.sha256(f"civicloop.reply:{secret_key}".encode()).digest()

    def unsubscribe_token(self, ref: str) -> str:
        return self._unsubscribe.dumps(ref)

    def read_unsubscribe(self, token: str) -> str:
        try:
            ref = self._unsubscribe.loads(token)
        except BadSignature:
            raise InvalidLink(i18n.text("error.link.unsubscribe_foreign")) from None
        if not isinstance(ref, str) or ref.partition(":")[0] not in ("follow", "watch", "alerts"):
            raise InvalidLink(i18n.text("error.link.unsubscribe_malformed"))
        return ref

    def contractor_token(self, link_id: int) -> str:
        return self._contractor.dumps(link_id)

    def read_contractor(self, token: str) -> int:
        """The hand-over a contractor's link names."""
        try:
            link_id = self._contractor.loads(token)
        except BadSignature:
            raise NotFound(i18n.text("error.contractor.unknown")) from None
        if not isinstance(link_id, int):
            raise NotFound(i18n.text("error.contractor.unknown"))
        return link_id

    def _reply_mac(self, ref: str) -> str:
        # Lower-case hex: mail systems may change the case of an address's local part.
        return hmac.new(self._reply_key, ref.encode(), hashlib.sha256).hexdigest()[:24]

    def reply_address(self, domain: str, *, user_id: int, issue_id: int) -> str:
        """The Reply-To of one recipient's messages about one issue: a reply to it comments as
        that recipient (`reply+<user>.<issue>.<signature>@domain`, within 64 characters)."""
        ref = f"{user_id}.{issue_id}"
        return f"{REPLY_PREFIX}{ref}.{self._reply_mac(ref)}@{domain}"

    def read_reply_address(self, address: str, domain: str) -> tuple[int, int]:
        """The (user id, issue id) a reply address names, if it is one of ours."""
        local, _, host = address.strip().strip("<>").lower().rpartition("@")
        try:
            if host != domain.lower() or not local.startswith(REPLY_PREFIX):
                raise ValueError(address)
            user_id, issue_id, mac = local.removeprefix(REPLY_PREFIX).split(".")
            if not hmac.compare_digest(mac, self._reply_mac(f"{user_id}.{issue_id}")):
                raise ValueError(address)
            return int(user_id), int(issue_id)
        except ValueError:
            raise InvalidLink(i18n.text("error.reply.foreign")) from None

    def feedback_token(self, claim: FeedbackClaim) -> str:
        return self._feedback.dumps(
            [claim.issue_id, claim.reporter_id, claim.resolved_at.isoformat()]
        )

    def read_feedback(self, token: str, *, max_age: dt.timedelta) -> FeedbackClaim:
        try:
            issue_id, reporter_id, resolved_at = self._feedback.loads(
                token, max_age=int(max_age.total_seconds())
            )
            return FeedbackClaim(
                int(issue_id), int(reporter_id), dt.datetime.fromisoformat(resolved_at)
            )
        except SignatureExpired:
            raise InvalidLink(
                i18n.text("error.link.expired", days=max_age.days), expired=True
            ) from None
        except (BadSignature, ValueError, TypeError):
            raise InvalidLink(i18n.text("error.link.foreign")) from None
