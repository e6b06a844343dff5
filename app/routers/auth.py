"""Registration, login sessions and their tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app import i18n
from app.deps import CurrentUser, Idempotent, SessionDep, SettingsDep, get_login_session
from app.errors import problem_responses
from app.http.limits import Action, LoginBackoffDep, RateLimited, by_email
from app.http.route import UnitOfWorkRoute
from app.models import SessionEnd
from app.routers.mailed_links import describe_link
from app.schemas.account import (
    Accepted,
    LinkToken,
    LoginRequest,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    RegisterRequest,
    TokenResponse,
)
from app.schemas.notification import Confirmation
from app.services import accounts, sessions
from app.services.notifications.account_mail import AccountLinks


async def no_store(response: Response) -> None:
    """Tokens must not be kept by a browser or proxy cache (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


router = APIRouter(
    prefix="/auth", tags=["auth"], route_class=UnitOfWorkRoute, dependencies=[Depends(no_store)]
)
LoginSession = Annotated[int, Depends(get_login_session)]


def _token_response(tokens: sessions.Tokens) -> TokenResponse:
    return TokenResponse(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        refresh_token=tokens.refresh_token,
    )


def get_account_links(settings: SettingsDep) -> AccountLinks:
    return AccountLinks(settings.secret_key)


AccountLinksDep = Annotated[AccountLinks, Depends(get_account_links)]


@router.post(
    "/register",
    status_code=202,
    response_model=Accepted,
    dependencies=[RateLimited(Action.register, per=by_email), Idempotent],
    responses=problem_responses(400, 401, 413, 415, 422),
    summary="Sign up as a citizen",
)
def register(body: RegisterRequest, session: SessionDep) -> Accepted:
    """Always answers 202 "check your e-mail": a link is mailed to the address, and opening it
    (POST /auth/register/confirm) makes the account. If the address already has an account,
    its owner is told instead. Pass the app's `device_id` to keep the reports made from this
    device before signing up."""
    accounts.register_citizen(
        session,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
        language=body.language,
        device_id=body.device_id,
    )
    return Accepted(detail=i18n.t("account.check_email", i18n.current()))


@router.get(
    "/register/confirm",
    response_model=Confirmation,
    responses=problem_responses(400, 422),
    summary="What the mailed sign-up link does",
)
def describe_sign_up_link(
    token: Annotated[str, Query(max_length=1024)], settings: SettingsDep, links: AccountLinksDep
) -> Confirmation:
    links.read_confirm(token, max_age=dt.timedelta(hours=settings.sign_up_link_hours))
    return describe_link(
        settings.public_base_url,
        action="confirm_sign_up",
        description=i18n.text("account.confirm_sign_up"),
        path="/auth/register/confirm",
        body={"token": token},
    )


@router.post(
    "/register/confirm",
    status_code=201,
    response_model=TokenResponse,
    responses=problem_responses(400, 409, 413, 415, 422),
    summary="Confirm a sign-up: make the account and log in",
)
def confirm_sign_up(
    body: LinkToken, session: SessionDep, settings: SettingsDep, links: AccountLinksDep
) -> TokenResponse:
    """The token from the mailed link; each link works once, for `sign_up_link_hours`."""
    registration_id = links.read_confirm(
        body.token, max_age=dt.timedelta(hours=settings.sign_up_link_hours)
    )
    user = accounts.confirm_registration(session, registration_id=registration_id)
    return _token_response(sessions.start(session, settings, user=user))


@router.post(
    "/verify-email",
    status_code=202,
    response_model=Accepted,
    dependencies=[RateLimited(Action.verify)],
    responses=problem_responses(400, 401, 429),
    summary="Send the link that verifies your e-mail address again",
)
def request_email_verification(session: SessionDep, user: CurrentUser) -> Accepted:
    """Accounts made by an admin start unverified: their address receives nothing but this
    link until its owner opens it. A verified address is sent nothing."""
    accounts.request_verification(session, user=user)
    return Accepted(detail=i18n.t("account.check_email", i18n.current()))


def _read_verify_link(settings: SettingsDep, links: AccountLinks, token: str) -> tuple[int, str]:
    return links.read_verify(token, max_age=dt.timedelta(hours=settings.sign_up_link_hours))


@router.get(
    "/verify-email/confirm",
    response_model=Confirmation,
    responses=problem_responses(400, 422),
    summary="What the mailed verification link does",
)
def describe_verify_link(
    token: Annotated[str, Query(max_length=1024)], settings: SettingsDep, links: AccountLinksDep
) -> Confirmation:
    _read_verify_link(settings, links, token)
    return describe_link(
        settings.public_base_url,
        action="verify_email",
        description=i18n.text("account.confirm_verify"),
        path="/auth/verify-email/confirm",
        body={"token": token},
    )


@router.post(
    "/verify-email/confirm",
    response_model=Accepted,
    responses=problem_responses(400, 413, 415, 422),
    summary="Verify an account's e-mail address",
)
def confirm_email_verification(
    body: LinkToken, session: SessionDep, settings: SettingsDep, links: AccountLinksDep
) -> Accepted:
    """The token from the mailed link; from now on messages reach the address. Idempotent."""
    user_id, email = _read_verify_link(settings, links, body.token)
    accounts.confirm_email(session, user_id=user_id, email=email)
    return Accepted(detail=i18n.t("account.email_verified", i18n.current()))


@router.post(
    "/password-reset",
    status_code=202,
    response_model=Accepted,
    dependencies=[RateLimited(Action.password_reset, per=by_email)],
    responses=problem_responses(400, 401, 413, 415, 422),
    summary="Ask for a password reset link",
)
def request_password_reset(body: PasswordResetRequest, session: SessionDep) -> Accepted:
    """Always answers 202 "check your e-mail"; a link is mailed only if the address is an
    account's."""
    accounts.request_password_reset(session, email=str(body.email))
    return Accepted(detail=i18n.t("account.check_email", i18n.current()))


@router.get(
    "/password-reset/confirm",
    response_model=Confirmation,
    responses=problem_responses(400, 422),
    summary="What the mailed reset link does",
)
def describe_reset_link(
    token: Annotated[str, Query(max_length=1024)], settings: SettingsDep, links: AccountLinksDep
) -> Confirmation:
    links.read_reset(token, max_age=dt.timedelta(minutes=settings.password_reset_link_minutes))
    return describe_link(
        settings.public_base_url,
        action="reset_password",
        description=i18n.text("account.confirm_reset"),
        path="/auth/password-reset/confirm",
        body={"token": token},  # and the new `password`
    )


@router.post(
    "/password-reset/confirm",
    status_code=204,
    responses=problem_responses(400, 413, 415, 422),
    summary="Set a new password from a reset link",
)
def reset_password(
    body: PasswordResetConfirm, session: SessionDep, settings: SettingsDep, links: AccountLinksDep
) -> None:
    """Each link works once, for `password_reset_link_minutes`. Every session of the account
    ends: log in with the new password."""
    user_id, fingerprint = links.read_reset(
        body.token, max_age=dt.timedelta(minutes=settings.password_reset_link_minutes)
    )
    accounts.reset_password(
        session, user_id=user_id, fingerprint=fingerprint, password=body.password
    )


@router.post(
    "/login",
    response_model=TokenResponse,
    dependencies=[RateLimited(Action.login, per=by_email), LoginBackoffDep],
    responses=problem_responses(400, 401, 413, 415, 422),
    summary="Log in with e-mail and password",
)
def login(body: LoginRequest, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    """Starts a session: a short-lived access token (send as `Authorization: Bearer ...`) and a
    refresh token, both working until the session ends (logout, or a refresh token reused)."""
    user = accounts.authenticate(session, email=str(body.email), password=body.password)
    return _token_response(sessions.start(session, settings, user=user))


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses=problem_responses(400, 401, 413, 415, 422),
    summary="Trade a refresh token for new tokens",
)
def refresh(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    """Each refresh token works once: keep the new one. Sending one that was already traded in
    ends the session (someone else holds a copy): log in again."""
    try:
        tokens = sessions.refresh(session, settings, refresh_token=body.refresh_token)
    except sessions.RefreshReplayed:
        # The route class commits only answers that succeed; the session's end must stand.
        session.commit()
        raise
    return _token_response(tokens)


@router.post(
    "/logout",
    status_code=204,
    responses=problem_responses(401),
    summary="End this session",
)
def logout(_: CurrentUser, login_session: LoginSession, session: SessionDep) -> None:
    """The access token sent and every token of its session stop working."""
    sessions.end(session, session_id=login_session, reason=SessionEnd.logout)
