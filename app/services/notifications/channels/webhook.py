"""Webhooks: a signed JSON POST that receivers verify and de-duplicate.

Signed as Standard Webhooks (https://www.standardwebhooks.com) asks, so its verifiers accept it:
`webhook-id` (stable across retries), `webhook-timestamp` (seconds; receivers reject old ones to
stop replays) and `webhook-signature`, `v1,` followed by base64 HMAC-SHA256 over
`{id}.{timestamp}.{body}`, keyed with the base64-decoded part of the `whsec_...` secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time

import httpx

from app.services.notifications.channels import DeliveryError

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """32 random bytes, base64 (the spec asks for 24 to 64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key a secret stands for. Secrets made before signing followed the standard are
    43 URL-safe characters, never valid base64: their receivers were told to key with the
    whole string, and they keep that key."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        return secret.encode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def post(client: httpx.Client, *, url: str, secret: str, message_id: str, body: bytes) -> None:
    """Deliver once through the guarded client (it refuses internal addresses when it connects);
    2xx is done, 408/429/5xx and network trouble retry, other 4xx do not."""
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "civicloop-webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise DeliveryError(f"no answer from {url} in time") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"cannot reach {url}: {exc}") from None
    if response.is_success:
        return
    status = response.status_code
    retry = status >= 500 or status in (408, 429)
    raise DeliveryError(f"{url} answered {status}", permanent=not retry)
