"""Web Push (RFC 8030/8291/8292): payload encrypted to the subscription's keys, VAPID-signed.

pywebpush encrypts and py_vapid signs; the request itself goes out through the guarded HTTP
client like every outbound request, so the push endpoint is checked when it is connected to.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
from py_vapid import Vapid
from pywebpush import WebPusher

from app.services.notifications.channels import DeliveryError, SubscriptionGone

# How long the push service may hold a message for an offline device.
TTL_SECONDS = 24 * 3600
# RFC 8292 caps a VAPID token's life at 24 hours.
VAPID_TOKEN_SECONDS = 12 * 3600


def send(
    client: httpx.Client,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    data: bytes,
    vapid_private_key: str,
    vapid_subject: str,
) -> None:
    if not vapid_private_key:
        raise DeliveryError(
            "Web Push is not configured: set CIVICLOOP_VAPID_PRIVATE_KEY", permanent=True
        )
    origin = urlsplit(endpoint)
    claims = {
        "sub": vapid_subject,
        "aud": f"{origin.scheme}://{origin.netloc}",
        "exp": int(time.time()) + VAPID_TOKEN_SECONDS,
    }
    encrypted = WebPusher({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}).encode(
        data, "aes128gcm"
    )
    headers = {
        **Vapid.from_string(private_key=vapid_private_key).sign(claims),
        "content-encoding": "aes128gcm",
        "ttl": str(TTL_SECONDS),
    }
    try:
        response = client.post(endpoint, content=encrypted["body"], headers=headers)
    except httpx.TimeoutException:
        raise DeliveryError("no answer from the push service in time") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"cannot reach the push service: {exc}") from None
    status = response.status_code
    if status in (404, 410):
        raise SubscriptionGone(f"push service answered {status}: subscription expired")
    if not response.is_success:
        retry = status >= 500 or status in (408, 429)
        raise DeliveryError(f"push service answered {status}", permanent=not retry)
