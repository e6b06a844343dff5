"""Webhooks: a signed JSON POST that receivers verify and de-duplicate.

The headers follow Standard Webhooks: `webhook-id` (stable across retries), `webhook-timestamp`
(seconds; receivers reject old ones to stop replays) and `webhook-signature`, `v1,` followed by
base64 HMAC-SHA256 with the subscriber's secret over `{id}.{timestamp}.{body}`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import httpx

from app.services.notifications.channels import DeliveryError


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
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
