"""LINE Messaging API through line-bot-sdk: verify a webhook's signature, answer in the chat,
push a status update, fetch a photo a resident sent, read the language of their profile. The
API's addresses are settings, so tests talk to a local server that speaks the same protocol."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    PushMessageRequest,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhooks import Event

from app import i18n
from app.config import Settings
from app.errors import BadRequest, NotConfigured
from app.services.notifications.channels import DeliveryError

# LINE refuses a text message longer than this.
MAX_TEXT = 5000
# What LINE's API answers with when it refuses a call.
ApiError = ApiException


class InvalidSignature(BadRequest):
    slug = "invalid-signature"
    title = "The signature does not match"


def parse_webhook(settings: Settings, body: bytes, signature: str | None) -> list[Event]:
    """The events of a webhook call whose X-Line-Signature (HMAC-SHA256 of the body with the
    channel secret) is right; anything else is refused before it is read as events."""
    secret = settings.line_channel_secret.get_secret_value()
    if not secret:
        raise NotConfigured(i18n.text("error.line.not_configured"))
    if not signature:
        raise InvalidSignature(i18n.text("error.line.signature"))
    try:
        events = WebhookParser(secret).parse(body.decode("utf-8", "replace"), signature)
    except InvalidSignatureError:
        raise InvalidSignature(i18n.text("error.line.signature")) from None
    except ValueError:
        raise BadRequest(i18n.text("error.line.body")) from None
    assert isinstance(events, list)
    return events


@contextmanager
def _client(settings: Settings, host: str) -> Iterator[ApiClient]:
    configuration = Configuration(
        host=host.rstrip("/"),
        access_token=settings.line_channel_access_token.get_secret_value(),
    )
    with ApiClient(configuration) as client:
        yield client


def _texts(text: str) -> list[TextMessage]:
    return [TextMessage(text=text[:MAX_TEXT], quickReply=None, quoteToken=None)]


def reply(settings: Settings, *, reply_token: str, text: str) -> None:
    """Answer in the chat (a reply token works once, for a short while)."""
    with _client(settings, settings.line_api_base_url) as client:
        MessagingApi(client).reply_message(
            ReplyMessageRequest(
                replyToken=reply_token, messages=_texts(text), notificationDisabled=False
            ),
            _request_timeout=settings.line_timeout_seconds,
        )


def push(settings: Settings, *, to: str, text: str, retry_key: str) -> None:
    """A status update into the resident's chat; the retry key (the message's id) makes LINE
    drop a repeat of a push it already took. 4xx answers other than 429 are permanent."""
    try:
        with _client(settings, settings.line_api_base_url) as client:
            MessagingApi(client).push_message(
                PushMessageRequest(
                    to=to,
                    messages=_texts(text),
                    notificationDisabled=False,
                    customAggregationUnits=None,
                ),
                x_line_retry_key=retry_key,
                _request_timeout=settings.line_timeout_seconds,
            )
    except ApiException as exc:
        status = exc.status or 0
        if status == 409:
            return  # accepted before under this retry key: sent
        raise DeliveryError(
            f"LINE push {status}: {exc.reason}", permanent=400 <= status < 500 and status != 429
        ) from None
    except OSError as exc:
        raise DeliveryError(f"LINE unreachable: {exc}") from None


def profile_language(settings: Settings, user_id: str) -> str | None:
    """The language (a BCP 47 tag) the resident uses LINE in, when their profile says it."""
    with _client(settings, settings.line_api_base_url) as client:
        profile = MessagingApi(client).get_profile(
            user_id, _request_timeout=settings.line_timeout_seconds
        )
    language: str | None = profile.language
    return language


def content(settings: Settings, message_id: str) -> bytes:
    """The bytes of an image a resident sent."""
    with _client(settings, settings.line_data_api_base_url) as client:
        return bytes(
            MessagingApiBlob(client).get_message_content(
                message_id, _request_timeout=settings.line_timeout_seconds
            )
        )
