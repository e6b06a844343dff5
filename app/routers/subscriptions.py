"""Where messages go: webhooks, Web Push subscriptions and a person's preferences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.deps import CurrentUser, Idempotent, PathId, Reporter, SessionDep, SettingsDep
from app.errors import problem_responses
from app.http.caching import Personal
from app.http.route import UnitOfWorkRoute
from app.models import User
from app.schemas.notification import (
    Preferences,
    PreferencesUpdate,
    PushSubscriptionCreate,
    PushSubscriptionRead,
    VapidKey,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)
from app.services.notifications import subscriptions

# Every answer here is about its caller (or holds secrets): never stored.
router = APIRouter(tags=["subscriptions"], route_class=UnitOfWorkRoute, dependencies=[Personal])


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    dependencies=[Idempotent],
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
    summary="Add a webhook",
)
def create_webhook(
    body: WebhookCreate, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> WebhookCreated:
    """Signed JSON POSTs for every step of the agency's issues (agency webhooks) or for what you
    follow and watch (your own). Keep the secret: it is shown only now."""
    hook = subscriptions.create_webhook(
        session,
        owner=user,
        agency_id=body.agency_id,
        url=body.url,
        description=body.description,
        settings=settings,
    )
    return WebhookCreated.model_validate(hook)


@router.get(
    "/webhooks",
    response_model=list[WebhookRead],
    responses=problem_responses(400, 401),
    summary="Your webhooks",
)
def list_webhooks(session: SessionDep, user: CurrentUser) -> list[WebhookRead]:
    """Yours; a manager's also their agency's; an admin's all."""
    return [WebhookRead.model_validate(h) for h in subscriptions.list_webhooks(session, user=user)]


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    responses=problem_responses(401, 404),
    summary="Remove a webhook",
)
def delete_webhook(session: SessionDep, user: CurrentUser, webhook_id: PathId) -> Response:
    subscriptions.delete_webhook(session, user=user, webhook_id=webhook_id)
    return Response(status_code=204)


@router.get(
    "/push/vapid-public-key",
    response_model=VapidKey,
    responses=problem_responses(503),
    summary="The Web Push application server key",
)
def get_vapid_public_key(settings: SettingsDep) -> VapidKey:
    return VapidKey(public_key=subscriptions.vapid_public_key(settings))


@router.post(
    "/users/me/push-subscriptions",
    status_code=201,
    response_model=PushSubscriptionRead,
    responses=problem_responses(400, 401, 413, 415, 422, 503),
    summary="Receive Web Push on this browser or app",
)
def subscribe_push(
    body: PushSubscriptionCreate, session: SessionDep, settings: SettingsDep, user: Reporter
) -> PushSubscriptionRead:
    """Send the browser's PushSubscription; works with an account or only an X-Device-Id."""
    sub = subscriptions.subscribe_push(
        session,
        user=user,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        settings=settings,
    )
    return PushSubscriptionRead.model_validate(sub)


@router.delete(
    "/users/me/push-subscriptions",
    status_code=204,
    responses=problem_responses(400, 401, 404, 422),
    summary="Stop Web Push to this browser or app",
)
def unsubscribe_push(
    session: SessionDep,
    user: Reporter,
    endpoint: Annotated[str, Query(min_length=8, max_length=2048)],
) -> Response:
    subscriptions.unsubscribe_push(session, user=user, endpoint=endpoint)
    return Response(status_code=204)


def _preferences(session: SessionDep, user: User) -> Preferences:
    pref = subscriptions.preferences(session, user=user)
    return Preferences(
        email=pref.email,
        webpush=pref.webpush,
        webhook=pref.webhook,
        agency_alerts=pref.agency_alerts,
        language=user.language,
    )


@router.get(
    "/users/me/notification-preferences",
    response_model=Preferences,
    responses=problem_responses(400, 401),
    summary="Your notification preferences",
)
def get_preferences(session: SessionDep, user: CurrentUser) -> Preferences:
    return _preferences(session, user)


@router.patch(
    "/users/me/notification-preferences",
    response_model=Preferences,
    responses=problem_responses(400, 401, 413, 415, 422),
    summary="Choose channels and language",
)
def update_preferences(body: PreferencesUpdate, session: SessionDep, user: Reporter) -> Preferences:
    subscriptions.update_preferences(session, user=user, changes=body.model_dump(exclude_none=True))
    return _preferences(session, user)
