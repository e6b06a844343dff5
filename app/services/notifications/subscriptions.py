"""Where a person's or an agency's messages go: webhooks, Web Push subscriptions, preferences."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid01
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import Forbidden, NotConfigured, NotFound, ValidationFailed
from app.models import Language, NotificationPreference, PushSubscription, Role, User, Webhook
from app.schemas.problem import FieldProblem
from app.services import permissions
from app.services.notifications.channels import DeliveryError
from app.services.notifications.channels.outbound import Guard
from app.services.notifications.channels.webhook import new_secret


def _invalid(location: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(
        f"{location}: {message}",
        errors=[FieldProblem(location=location, message=message, code=code)],
    )


def _check_url(url: str, allow: Sequence[str], location: str) -> None:
    try:
        Guard(allow).check_url(url)
    except DeliveryError as exc:
        raise _invalid(location, str(exc), "unsafe_url") from None


def create_webhook(
    session: Session,
    *,
    owner: User,
    agency_id: int | None,
    url: str,
    description: str,
    settings: Settings,
) -> Webhook:
    """An agency's system (its managers, or admins) or a person's own app; the secret is new."""
    if agency_id is not None and not (
        permissions.is_admin(owner) or (owner.role == Role.manager and owner.agency_id == agency_id)
    ):
        raise Forbidden("Only the agency's managers or an admin may add webhooks for an agency.")
    _check_url(url, settings.outbound_allow_list, "body.url")
    hook = Webhook(
        owner_id=owner.id,
        agency_id=agency_id,
        url=url,
        secret=new_secret(),
        description=description,
        is_active=True,
    )
    session.add(hook)
    session.flush()
    return hook


def list_webhooks(session: Session, *, user: User) -> list[Webhook]:
    query = select(Webhook).order_by(Webhook.id)
    if not permissions.is_admin(user):
        mine = Webhook.owner_id == user.id
        query = query.where(
            or_(mine, Webhook.agency_id == user.agency_id) if user.role == Role.manager else mine
        )
    return list(session.scalars(query))


def delete_webhook(session: Session, *, user: User, webhook_id: int) -> None:
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook not in list_webhooks(session, user=user):
        raise NotFound(f"You have no webhook {webhook_id}.")
    session.delete(hook)
    session.flush()


def vapid_public_key(settings: Settings) -> str:
    """The application server key browsers subscribe with (base64url, uncompressed P-256)."""
    if not settings.vapid_private_key:
        raise NotConfigured("Web Push is not configured on this server.")
    raw = Vapid01.from_string(settings.vapid_private_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _key_bytes(value: str, location: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise _invalid(location, "is not base64url", "invalid_key") from None


def subscribe_push(
    session: Session, *, user: User, endpoint: str, p256dh: str, auth: str, settings: Settings
) -> PushSubscription:
    """Register a browser's push subscription for this user (re-subscribing moves it)."""
    vapid_public_key(settings)
    if len(_key_bytes(p256dh, "body.keys.p256dh")) != 65:
        raise _invalid(
            "body.keys.p256dh", "must be an uncompressed P-256 public key", "invalid_key"
        )
    if len(_key_bytes(auth, "body.keys.auth")) != 16:
        raise _invalid("body.keys.auth", "must be a 16-byte secret", "invalid_key")
    _check_url(endpoint, settings.outbound_allow_list, "body.endpoint")
    sub = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if sub is None:
        sub = PushSubscription(endpoint=endpoint, user_id=user.id, p256dh=p256dh, auth=auth)
        session.add(sub)
    else:
        sub.user_id, sub.p256dh, sub.auth = user.id, p256dh, auth
    session.flush()
    return sub


def unsubscribe_push(session: Session, *, user: User, endpoint: str) -> None:
    sub = session.scalar(
        select(PushSubscription).where(
            PushSubscription.endpoint == endpoint, PushSubscription.user_id == user.id
        )
    )
    if sub is None:
        raise NotFound("You have no push subscription with this endpoint.")
    session.delete(sub)
    session.flush()


def preferences(session: Session, *, user: User) -> NotificationPreference:
    """The user's choices, the defaults when they never chose (not stored until changed)."""
    pref = session.get(NotificationPreference, user.id)
    if pref is None:
        pref = NotificationPreference(
            user_id=user.id, email=True, webpush=True, webhook=True, agency_alerts=True
        )
    return pref


def update_preferences(
    session: Session, *, user: User, changes: dict[str, object]
) -> NotificationPreference:
    """Channels on or off, and the language messages are written in (kept on the account)."""
    language = changes.pop("language", None)
    if isinstance(language, Language):
        user.language = language
    pref = preferences(session, user=user)
    for name, value in changes.items():
        setattr(pref, name, value)
    pref = session.merge(pref)
    session.flush()
    return pref
