"""Registration and tokens."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import Idempotent, SessionDep, SettingsDep
from app.errors import problem_responses
from app.http.route import UnitOfWorkRoute
from app.schemas.account import LoginRequest, RefreshRequest, RegisterRequest, TokenResponse
from app.services import accounts

router = APIRouter(prefix="/auth", tags=["auth"], route_class=UnitOfWorkRoute)


@router.post(
    "/register",
    status_code=201,
    response_model=TokenResponse,
    dependencies=[Idempotent],
    responses=problem_responses(400, 401, 409, 413, 415, 422),
    summary="Create a citizen account",
)
def register(body: RegisterRequest, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    """Sign up with e-mail and password and get tokens. Pass the app's `device_id` to keep the
    reports made from this device before signing up."""
    user = accounts.register_citizen(
        session,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
        language=body.language,
        device_id=body.device_id,
    )
    return TokenResponse.model_validate(accounts.tokens_for(settings, user))


@router.post(
    "/login",
    response_model=TokenResponse,
    responses=problem_responses(400, 401, 413, 415, 422),
    summary="Log in with e-mail and password",
)
def login(body: LoginRequest, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    """A short-lived access token (send as `Authorization: Bearer ...`) and a refresh token."""
    user = accounts.authenticate(session, email=str(body.email), password=body.password)
    return TokenResponse.model_validate(accounts.tokens_for(settings, user))


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses=problem_responses(400, 401, 413, 415, 422),
    summary="Trade a refresh token for new tokens",
)
def refresh(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    user = accounts.user_from_token(session, settings, body.refresh_token, refresh=True)
    return TokenResponse.model_validate(accounts.tokens_for(settings, user))
