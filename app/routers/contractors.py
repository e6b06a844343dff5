"""Contractors: the agency hands an issue over by a signed link; the contractor, without an
account, reads the work, adds after-fix photos and reports it done through that link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from app.deps import (
    CurrentUser,
    PathId,
    PhotoLinksDep,
    PhotoStoreDep,
    SessionDep,
    SettingsDep,
)
from app.errors import problem_responses
from app.http.limits import Action, RateLimited, by_link_token
from app.http.route import UnitOfWorkRoute
from app.models import ContractorLink, Issue
from app.routers.issues import CurrentIssue
from app.routers.uploads import PHOTOS_BODY, photos_only
from app.schemas.contractor import (
    ContractorLinkRead,
    ContractorWork,
    HandOverRequest,
    SendBackRequest,
    WorkDoneRequest,
)
from app.schemas.photo import PhotoRead
from app.services import contractors, photos
from app.services.notifications.tokens import LinkSigner
from app.storage.images import CleanPhoto

router = APIRouter(tags=["contractors"], route_class=UnitOfWorkRoute)

Token = Annotated[str, Path(min_length=8, max_length=200, description="The signed link's token.")]
# Each link has its allowance, and each client address one over every link.
ByLink = [RateLimited(Action.contractor, by_link_token)]


def read_token(token: Token, settings: SettingsDep) -> int:
    return LinkSigner(settings.secret_key).read_contractor(token)


LinkId = Annotated[int, Depends(read_token)]


def load_link(session: SessionDep, link_id: PathId) -> tuple[ContractorLink, Issue]:
    return contractors.get_link(session, link_id, lock=True)


CurrentLink = Annotated[tuple[ContractorLink, Issue], Depends(load_link)]


def _read(settings: SettingsDep, link: ContractorLink, issue: Issue) -> ContractorLinkRead:
    return contractors.link_read(
        link,
        issue,
        signer=LinkSigner(settings.secret_key),
        public_base_url=settings.public_base_url,
    )


@router.post(
    "/issues/{issue_id}/contractor-links",
    status_code=201,
    response_model=ContractorLinkRead,
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
    summary="Hand the work to a contractor by a signed link",
)
def hand_over_issue(
    issue: CurrentIssue,
    body: HandOverRequest,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> ContractorLinkRead:
    """Staff of the handling agency, while the issue is acknowledged or in progress. Give the
    contractor `url`: it works without an account until it expires or is revoked."""
    link = contractors.hand_over(
        session,
        issue=issue,
        actor=user,
        contractor=body.contractor,
        instructions=body.instructions,
        valid_days=body.valid_days,
        max_days=settings.contractor_link_max_days,
    )
    return _read(settings, link, issue)


@router.get(
    "/issues/{issue_id}/contractor-links",
    response_model=list[ContractorLinkRead],
    responses=problem_responses(401, 403, 404),
    summary="An issue's contractor hand-overs",
)
def list_contractor_links(
    issue: CurrentIssue, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> list[ContractorLinkRead]:
    found = contractors.links_of(session, issue=issue, viewer=user)
    return [_read(settings, link, issue) for link in found]


@router.post(
    "/contractor-links/{link_id}/revoke",
    response_model=ContractorLinkRead,
    responses=problem_responses(401, 403, 404, 409),
    summary="End a contractor's link now",
)
def revoke_contractor_link(
    current: CurrentLink, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ContractorLinkRead:
    link, issue = current
    contractors.revoke(session, link=link, issue=issue, actor=user)
    return _read(settings, link, issue)


@router.post(
    "/contractor-links/{link_id}/send-back",
    response_model=ContractorLinkRead,
    responses=problem_responses(400, 401, 403, 404, 409, 410, 415, 422),
    summary="Send the contractor's work back: not done yet",
)
def send_back_work(
    current: CurrentLink,
    body: SendBackRequest,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> ContractorLinkRead:
    """To accept the work instead, resolve the issue (POST /issues/{id}/transitions)."""
    link, issue = current
    contractors.send_back(session, link=link, issue=issue, actor=user, note=body.note)
    return _read(settings, link, issue)


@router.get(
    "/contractor/{token}",
    dependencies=ByLink,
    response_model=ContractorWork,
    responses=problem_responses(404, 410, 429),
    summary="The work handed to a contractor (no account: the link is the key)",
)
def get_contractor_work(
    link_id: LinkId, session: SessionDep, links: PhotoLinksDep
) -> ContractorWork:
    link, issue = contractors.open_link(session, link_id)
    return contractors.work_read(session, link=link, issue=issue, links=links)


def may_add_after_photos(link_id: LinkId, session: SessionDep, settings: SettingsDep) -> int:
    """Refuse an upload through a link that no longer works before its photos are decoded;
    then end this read, so no lock is held while they are (adding checks again)."""
    link, issue = contractors.open_link(session, link_id)
    contractors.check_may_add_photo(
        session, link=link, issue=issue, max_per_issue=settings.photo_max_per_issue
    )
    session.rollback()
    return link_id


@router.post(
    "/contractor/{token}/photos",
    status_code=201,
    dependencies=ByLink,
    response_model=list[PhotoRead],
    responses=problem_responses(400, 404, 409, 410, 413, 415, 422, 429, 503),
    openapi_extra=PHOTOS_BODY,
    summary="Add after-fix photos through a contractor's link",
)
def add_contractor_photos(
    link_id: Annotated[int, Depends(may_add_after_photos)],
    cleaned: Annotated[list[CleanPhoto], Depends(photos_only)],
    session: SessionDep,
    settings: SettingsDep,
    store: PhotoStoreDep,
    links: PhotoLinksDep,
) -> list[PhotoRead]:
    """Multipart, one part named `photo` per photo; cleaned like every photo (upright, no
    metadata) and shown as the issue's resolution photos."""
    link, issue = contractors.open_link(session, link_id, lock=True)
    added = contractors.add_photos(
        session,
        store=store,
        link=link,
        issue=issue,
        cleaned=cleaned,
        max_per_issue=settings.photo_max_per_issue,
    )
    return [photos.photo_read(p, internal=False, links=links) for p in added]


@router.post(
    "/contractor/{token}/done",
    dependencies=ByLink,
    response_model=ContractorWork,
    responses=problem_responses(400, 404, 409, 410, 415, 422, 429),
    summary="Report the work done, for the agency to confirm",
)
def report_work_done(
    link_id: LinkId, body: WorkDoneRequest, session: SessionDep, links: PhotoLinksDep
) -> ContractorWork:
    link, issue = contractors.open_link(session, link_id, lock=True)
    contractors.report_done(session, link=link, issue=issue, note=body.note)
    return contractors.work_read(session, link=link, issue=issue, links=links)
