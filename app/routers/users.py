"""The caller's account, their reports and API keys; staff accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from app.deps import (
    CurrentUser,
    CursorsDep,
    Idempotent,
    NotByApiKey,
    PathId,
    PhotoLinksDep,
    Reporter,
    SessionDep,
    SettingsDep,
    SpatialDep,
    require_role,
)
from app.errors import problem_responses
from app.http.caching import Personal
from app.http.route import UnitOfWorkRoute
from app.models import Role, User
from app.routers.presenters import issue_reads
from app.routers.query import PageParams
from app.schemas.account import (
    AccountStatusUpdate,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    ContactPreferencesUpdate,
    StaffCreate,
    UserRead,
)
from app.schemas.issue import IssueReadPage
from app.services import accounts, issues

# The caller's own account, keys and reports, or staff accounts: never stored.
router = APIRouter(
    prefix="/users", tags=["users"], route_class=UnitOfWorkRoute, dependencies=[Personal]
)

Admin = Annotated[User, require_role(Role.admin)]
AdminOrManager = Annotated[User, require_role(Role.admin, Role.manager)]
Integrator = Annotated[User, require_role(Role.admin, Role.manager, Role.agent)]


@router.get("/me", response_model=UserRead, responses=problem_responses(401), summary="Who am I")
def get_me(user: CurrentUser) -> User:
    return user


@router.patch(
    "/me",
    response_model=UserRead,
    responses=problem_responses(400, 401, 403, 413, 415, 422),
    summary="My contact language and needs",
)
def update_me(
    body: ContactPreferencesUpdate, request: Request, session: SessionDep, user: Reporter
) -> User:
    """How you want to be contacted: the language answers (without an Accept-Language naming
    Thai or English) and your messages are written in, and needs the staff handling your
    reports should know (easy_read also shortens your messages). A device reporting without an
    account has settings too (send its X-Device-Id)."""
    accounts.set_contact_preferences(
        session, user=user, language=body.language, contact_needs=body.contact_needs
    )
    # This answer, and any error after it, already speaks the new language.
    request.state.saved_language = user.language
    return user


@router.get(
    "/me/issues",
    response_model=IssueReadPage,
    responses=problem_responses(400, 401, 422),
    summary="My reports",
)
def list_my_issues(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    spatial: SpatialDep,
    cursors: CursorsDep,
    page: PageParams,
    links: PhotoLinksDep,
) -> IssueReadPage:
    """Everything you reported (with an account or from this device), newest first."""
    limit, cursor = page
    rows, next_cursor = issues.list_issues(
        session,
        spatial=spatial,
        cursors=cursors,
        issue_filter=issues.IssueFilter(reporter_id=user.id, include_private=True),
        limit=limit,
        cursor=cursor,
        with_reporter=True,
    )
    return IssueReadPage(
        items=issue_reads(session, rows, user, settings.reopen_window, links),
        next_cursor=next_cursor,
    )


@router.post(
    "",
    status_code=201,
    response_model=UserRead,
    dependencies=[Idempotent, NotByApiKey],
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
    summary="Create a staff or admin account",
)
def create_staff(body: StaffCreate, session: SessionDep, creator: AdminOrManager) -> User:
    """Admins create agents, managers and admins; managers create staff of their own agency."""
    return accounts.create_staff(
        session,
        creator=creator,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
        role=body.role,
        agency_id=body.agency_id,
    )


@router.patch(
    "/{user_id}",
    response_model=UserRead,
    dependencies=[NotByApiKey],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Switch an account off or on",
)
def update_account_status(
    user_id: PathId, body: AccountStatusUpdate, session: SessionDep, admin: Admin
) -> User:
    """Admins only. Switching an account off takes effect on its next request."""
    return accounts.set_active(session, actor=admin, user_id=user_id, active=body.is_active)


@router.get(
    "/me/api-keys",
    response_model=list[ApiKeyRead],
    responses=problem_responses(401, 403),
    summary="My API keys",
)
def list_api_keys(user: Integrator, session: SessionDep) -> list[ApiKeyRead]:
    return [ApiKeyRead.model_validate(k) for k in accounts.list_api_keys(session, owner=user)]


@router.post(
    "/me/api-keys",
    status_code=201,
    response_model=ApiKeyCreated,
    dependencies=[Idempotent, NotByApiKey],
    responses=problem_responses(400, 401, 403, 413, 415, 422),
    summary="Create an API key",
)
def create_api_key(body: ApiKeyCreate, user: Integrator, session: SessionDep) -> ApiKeyCreated:
    """For integrations acting as you (staff and admins). The key is shown only in this answer."""
    api_key, secret = accounts.create_api_key(session, owner=user, name=body.name)
    return ApiKeyCreated.model_validate(
        {**ApiKeyRead.model_validate(api_key).model_dump(), "key": secret}
    )


@router.delete(
    "/me/api-keys/{key_id}",
    response_model=ApiKeyRead,
    responses=problem_responses(401, 403, 404),
    summary="Revoke an API key",
)
def revoke_api_key(key_id: PathId, user: Integrator, session: SessionDep) -> ApiKeyRead:
    return ApiKeyRead.model_validate(accounts.revoke_api_key(session, owner=user, key_id=key_id))
