"""Photos: attach to an issue, fetch a rendition, moderate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app import i18n
from app.deps import (
    CurrentUser,
    IdempotentAfterUpload,
    OptionalUser,
    PathId,
    PhotoLinksDep,
    PhotoStoreDep,
    SessionDep,
    SettingsDep,
)
from app.errors import Forbidden, NotFound, problem_responses
from app.http.limits import Action, RateLimited
from app.http.route import UnitOfWorkRoute
from app.models import Issue, Photo, PhotoKind, PhotoVariant
from app.routers.issues import CurrentIssue
from app.routers.uploads import PHOTOS_BODY, photos_only
from app.schemas.photo import PhotoModeration, PhotoRead
from app.services import photos
from app.storage.images import CleanPhoto

router = APIRouter(tags=["photos"], route_class=UnitOfWorkRoute)

UPLOAD_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 503)


def may_upload(
    issue: CurrentIssue,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    kind: Annotated[
        PhotoKind,
        Query(description="`report` (the reporter's) or `resolution` (the agency's, the fix)."),
    ] = PhotoKind.report,
) -> PhotoKind:
    """Refuse an upload the user may not make before its photos are decoded. Then end this read:
    no database lock (SQLite's is per database) is held while photos are processed; adding them
    checks everything again."""
    photos.check_may_add(
        session,
        issue=issue,
        uploader=user,
        kind=kind,
        adding=1,
        max_per_issue=settings.photo_max_per_issue,
    )
    session.rollback()
    return kind


def load_photo(session: SessionDep, photo_id: PathId) -> tuple[Photo, Issue]:
    return photos.get_photo(session, photo_id)


CurrentPhoto = Annotated[tuple[Photo, Issue], Depends(load_photo)]


@router.post(
    "/issues/{issue_id}/photos",
    status_code=201,
    dependencies=[RateLimited(Action.photo)],
    response_model=list[PhotoRead],
    responses=UPLOAD_ERRORS,
    openapi_extra=PHOTOS_BODY,
    summary="Attach photos to an issue",
)
def add_issue_photos(
    kind: Annotated[PhotoKind, Depends(may_upload)],
    cleaned: Annotated[list[CleanPhoto], Depends(photos_only)],
    issue: CurrentIssue,
    session: SessionDep,
    settings: SettingsDep,
    store: PhotoStoreDep,
    links: PhotoLinksDep,
    user: CurrentUser,
    _idempotent: IdempotentAfterUpload,
) -> list[PhotoRead]:
    """Multipart, one part named `photo` per photo (JPEG, PNG, WebP or HEIC/HEIF). Each is
    checked, turned upright and stripped of all metadata (its GPS position included) before it is
    stored; only its capture time is kept."""
    added = photos.add_photos(
        session,
        store=store,
        issue=issue,
        uploader=user,
        kind=kind,
        photos=cleaned,
        max_per_issue=settings.photo_max_per_issue,
    )
    internal = photos.sees_internal(session, issue=issue, viewer=user)
    return [photos.photo_read(p, internal=internal, links=links) for p in added]


@router.get(
    "/issues/{issue_id}/photos",
    response_model=list[PhotoRead],
    responses=problem_responses(404),
    summary="An issue's photos",
)
def list_issue_photos(
    issue: CurrentIssue, session: SessionDep, viewer: OptionalUser, links: PhotoLinksDep
) -> list[PhotoRead]:
    internal = photos.sees_internal(session, issue=issue, viewer=viewer)
    found = photos.photos_by_issue(session, [issue.id], internal_ids={issue.id} if internal else ())
    return [photos.photo_read(p, internal=internal, links=links) for p in found[issue.id]]


@router.get(
    "/photos/{photo_id}/{variant}",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The image"},
        304: {"description": "Not modified (If-None-Match)"},
        307: {"description": "Redirect to a presigned bucket URL"},
        **problem_responses(403, 404, 503),
    },
    summary="One rendition of a photo",
)
def get_photo_file(
    current: CurrentPhoto,
    variant: PhotoVariant,
    session: SessionDep,
    settings: SettingsDep,
    store: PhotoStoreDep,
    viewer: OptionalUser,
    request: Request,
) -> Response:
    """The image bytes exactly as stored, with their stored type. Thumbnails and display sizes
    are public; the full size is for the agencies involved and admins; hidden photos exist only
    for them."""
    photo, issue = current
    internal = photos.check_visible(session, photo=photo, issue=issue, viewer=viewer)
    if variant == PhotoVariant.full and not internal:
        raise Forbidden(i18n.text("error.photo.full_who"))
    file = next((f for f in photo.files if f.variant == variant), None)
    if file is None:
        # Only an original goes missing: the retention policy removed it.
        raise NotFound(i18n.text("error.photo.original_removed", id=photo.id))
    presigned = store.presigned_url(file.key)
    if presigned is not None:
        return Response(
            status_code=307, headers={"Location": presigned, "Cache-Control": "no-store"}
        )
    # Bytes not everyone may see sit in the viewer's own cache, never in a shared one.
    withheld = photo.is_hidden or issue.hidden_at is not None or issue.is_restricted
    scope = "private" if withheld or variant == PhotoVariant.full else "public"
    headers = {
        "ETag": file.etag,
        "Cache-Control": f"{scope}, max-age={settings.photo_cache_seconds}, immutable",
    }
    if request.headers.get("if-none-match", "").strip() == file.etag:
        return Response(status_code=304, headers=headers)
    return Response(photos.file_bytes(store, file), media_type=file.content_type, headers=headers)


@router.patch(
    "/photos/{photo_id}",
    response_model=PhotoRead,
    responses=problem_responses(400, 401, 403, 404, 415, 422),
    summary="Hide a photo from the public, or show it again",
)
def moderate_photo(
    current: CurrentPhoto,
    body: PhotoModeration,
    session: SessionDep,
    user: CurrentUser,
    links: PhotoLinksDep,
) -> PhotoRead:
    """Staff of the agencies involved and admins; each change is an internal timeline event."""
    photo, issue = current
    photos.set_hidden(
        session, photo=photo, issue=issue, actor=user, hidden=body.hidden, note=body.note
    )
    return photos.photo_read(photo, internal=True, links=links)
