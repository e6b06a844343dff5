"""Web Push (RFC 8030/8291/8292): payload encrypted to the subscription's keys, VAPID-signed."""

from __future__ import annotations

from collections.abc import Sequence

import requests
from pywebpush import WebPushException, webpush

from app.services.notifications.channels import DeliveryError, SubscriptionGone
from app.services.notifications.channels.outbound import check_destination

# How long the push service may hold a message for an offline device.
TTL_SECONDS = 24 * 3600


def send(
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    data: bytes,
    vapid_private_key: str,
    vapid_subject: str,
    timeout: float,
    allow: Sequence[str],
) -> None:
    if not vapid_private_key:
        raise DeliveryError(
            "Web Push is not configured: set CIVICLOOP_VAPID_PRIVATE_KEY", permanent=True
        )
    check_destination(endpoint, allow)
    try:
        webpush(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=data.decode(),
            vapid_private_key=vapid_private_key,
            vapid_claims={"sub": vapid_subject},
            timeout=timeout,
            ttl=TTL_SECONDS,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            raise SubscriptionGone(
                f"push service answered {status}: subscription expired"
            ) from None
        retry = status is None or status >= 500 or status in (408, 429)
        raise DeliveryError(f"push service answered {status}", permanent=not retry) from None
    except requests.RequestException as exc:
        raise DeliveryError(f"cannot reach the push service: {exc}") from None
