"""Photos: who may attach which, how many, where the files go, and who sees them."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app import i18n
from app.config import Settings
from app.db import on_rollback
from app.errors import Conflict, Forbidden, NotFound, PhotoLimitReached, StorageUnavailable
from app.models import (
    EventAction,
    Issue,
    IssueStatus,
    Photo,
    PhotoFile,
    PhotoKind,
    PhotoVariant,
    User,
)
from app.models.base import utcnow
from app.schemas.photo import PhotoRead, PhotoUrls
from app.services import lifecycle, permissions
from app.storage import PhotoStore, StorageError, content_key
from app.storage.images import CleanPhoto, Limits, Region, clean_photo, fill_region

log = logging.getLogger(__name__)


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_pixels=settings.photo_max_pixels,
        display_px=settings.photo_display_px,
        thumbnail_px=settings.photo_thumbnail_px,
        jpeg_quality=settings.photo_jpeg_quality,
        capture_timezone=settings.photo_capture_timezone,
    )


def clean_uploads(
    uploads: Iterable[tuple[str | i18n.Text, bytes]], limits: Limits
) -> list[CleanPhoto]:
    """Decode and re-encode each (name, bytes) photo of a request; CPU-heavy, so callers run it
    in a worker thread."""
    return [clean_photo(data, limits, name=name) for name, data in uploads]


def _store_files(store: PhotoStore, photos: Sequence[CleanPhoto]) -> list[str]:
    """Store every rendition; on failure remove what this call created, so nothing is orphaned."""
    created: list[str] = []
    try:
        for photo in photos:
            for rendition in photo.renditions.values():
                key = content_key(rendition.data, photo.content_type)
                if store.put(key, rendition.data, photo.content_type):
                    created.append(key)
    except StorageError as exc:
        _delete(store, created)
        raise StorageUnavailable(i18n.text("error.photo.store_failed")) from exc
    return created


def file_bytes(store: PhotoStore, file: PhotoFile) -> bytes:
    try:
        return store.read(file.key)
    except StorageError as exc:
        raise StorageUnavailable(i18n.text("error.photo.read_failed")) from exc


def _delete(store: PhotoStore, keys: Iterable[str]) -> None:
    """Best effort, while already failing: a file that cannot be deleted is logged, not raised."""
    for key in keys:
        try:
            store.delete(key)
        except StorageError:
            log.exception("could not delete photo file %s: it is left orphaned", key)


def check_may_add(
    session: Session,
    *,
    issue: Issue,
    uploader: User,
    kind: PhotoKind,
    adding: int,
    max_per_issue: int,
) -> None:
    """Report photos from the reporter, resolution photos from the handling agency, none on a
    closed issue, and no more than `max_per_issue` in all."""
    if not permissions.may_add_photo(uploader, issue, kind):
        raise Forbidden(
            i18n.text(
                "error.photo.report_who"
                if kind == PhotoKind.report
                else "error.photo.resolution_who"
            )
        )
    if issue.status == IssueStatus.closed:
        raise Conflict(i18n.text("error.photo.closed"))
    held = session.scalar(select(func.count()).where(Photo.issue_id == issue.id)) or 0
    if held + adding > max_per_issue:
        raise PhotoLimitReached(
            i18n.text("error.photo.limit", max=max_per_issue, held=held, adding=adding),
            photos_held=held,
            max_photos=max_per_issue,
        )


def add_photos(
    session: Session,
    *,
    store: PhotoStore,
    issue: Issue,
    uploader: User,
    kind: PhotoKind,
    photos: Sequence[CleanPhoto],
    max_per_issue: int,
    actor_role: str | None = None,
) -> list[Photo]:
    """Attach cleaned photos to an issue, within its photo limit, with a timeline event each
    (`actor_role` names who took them when the uploader answers for someone else).

    Files are stored before the rows; if the transaction then fails, the files this call created
    are deleted again (files another issue already shares are left alone)."""
    # Serialise uploads to one issue, so two at once cannot both pass the limit.
    session.execute(select(Issue.id).where(Issue.id == issue.id).with_for_update())
    check_may_add(
        session,
        issue=issue,
        uploader=uploader,
        kind=kind,
        adding=len(photos),
        max_per_issue=max_per_issue,
    )
    created = _store_files(store, photos)
    on_rollback(session, lambda: _delete(store, created))
    stored = []
    now = utcnow()
    for clean in photos:
        photo = Photo(
            issue_id=issue.id,
            kind=kind,
            uploader_id=uploader.id,
            created_at=now,
            captured_at=clean.captured_at,
            files=[
                PhotoFile(
                    variant=variant,
                    key=content_key(rendition.data, clean.content_type),
                    content_type=clean.content_type,
                    byte_size=len(rendition.data),
                    width=rendition.width,
                    height=rendition.height,
                )
                for variant, rendition in clean.renditions.items()
            ],
        )
        session.add(photo)
        session.flush()
        event = lifecycle.record_event(
            session,
            issue=issue,
            action=EventAction.photo_added,
            actor=uploader,
            from_status=issue.status,
            message=i18n.text("message.photo_added", kind=i18n.text(f"label.photo_kind.{kind}")),
            actor_role=actor_role,
        )
        event.photo_id = photo.id
        stored.append(photo)
    issue.updated_at = now  # a new version, so the issue's ETag changes with its photos
    session.flush()
    return stored


def get_photo(session: Session, photo_id: int) -> tuple[Photo, Issue]:
    photo = session.scalar(
        select(Photo).where(Photo.id == photo_id).options(selectinload(Photo.files))
    )
    if photo is None:
        raise NotFound(i18n.text("error.photo.not_found", id=photo_id))
    issue = session.get_one(Issue, photo.issue_id)
    return photo, issue


def sees_internal(session: Session, *, issue: Issue, viewer: User | None) -> bool:
    """Hidden photos and full sizes: the agencies involved and admins."""
    return permissions.sees_internal(
        viewer, issue, permissions.candidate_agency_ids(session, issue)
    )


def check_visible(session: Session, *, photo: Photo, issue: Issue, viewer: User | None) -> bool:
    """Hidden photos, and photos of a hidden issue, exist only for the agencies involved and
    admins, photos of a private (or unpublished) report for those who see the report (a 404
    for everyone else); returns whether the viewer sees internal detail, full-size photos
    included."""
    candidates = permissions.candidate_agency_ids(session, issue)
    internal = permissions.sees_internal(viewer, issue, candidates)
    withheld = (photo.is_hidden or issue.hidden_at is not None) and not internal
    if withheld or (
        issue.is_restricted and not permissions.sees_private_report(viewer, issue, candidates)
    ):
        raise NotFound(i18n.text("error.photo.not_found", id=photo.id))
    return internal


def set_hidden(
    session: Session, *, photo: Photo, issue: Issue, actor: User, hidden: bool, note: str | None
) -> Photo:
    """Staff of the agencies involved and admins hide a photo from the public (or show it again);
    each change is an internal event on the issue's timeline."""
    if not permissions.sees_internal(
        actor, issue, permissions.candidate_agency_ids(session, issue)
    ):
        raise Forbidden(i18n.text("error.photo.moderate_who"))
    if photo.is_hidden == hidden:
        return photo
    now = utcnow()
    photo.hidden_at = now if hidden else None
    photo.hidden_by_id = actor.id if hidden else None
    issue.updated_at = now  # a new version: readers' cached copies must not show it any more
    event = lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.photo_hidden if hidden else EventAction.photo_restored,
        actor=actor,
        from_status=issue.status,
        note=note,
        is_public=False,
    )
    event.photo_id = photo.id
    session.flush()
    return photo


def redact(
    session: Session, *, store: PhotoStore, photo: Photo, region: Region, limits: Limits
) -> dict[str, str]:
    """Re-make the photo's renditions from its largest one with the region filled in; returns
    the keys of the files it showed until now, which stay stored (for the audit only: no
    rendition names them any more). Needs photo.files loaded (`get_photo` does)."""
    by_variant = {f.variant: f for f in photo.files}
    source = by_variant.get(PhotoVariant.full) or by_variant[PhotoVariant.display]
    clean = clean_photo(
        fill_region(file_bytes(store, source), region),
        limits,
        name=i18n.text("error.photo.redacted_name", id=photo.id),
    )
    created = _store_files(store, [clean])
    on_rollback(session, lambda: _delete(store, created))
    originals = {f.variant.value: f.key for f in photo.files}
    for file in photo.files:
        rendition = clean.renditions[file.variant]
        file.key = content_key(rendition.data, clean.content_type)
        file.content_type = clean.content_type
        file.byte_size = len(rendition.data)
        file.width, file.height = rendition.width, rendition.height
    return originals


@dataclass(frozen=True)
class PhotoLinks:
    """Where a client fetches each rendition: the API, or a presigned bucket URL."""

    api_base: str
    store: PhotoStore

    def url(self, photo: Photo, file: PhotoFile) -> str:
        return self.store.presigned_url(file.key) or (
            f"{self.api_base}/photos/{photo.id}/{file.variant}"
        )


def photo_read(photo: Photo, *, internal: bool, links: PhotoLinks) -> PhotoRead:
    files = {file.variant: file for file in photo.files}
    # The retention policy may have removed the original: the display size is then the largest.
    full = files.get(PhotoVariant.full)
    largest = full or files[PhotoVariant.display]
    return PhotoRead(
        id=photo.id,
        kind=photo.kind,
        created_at=photo.created_at,
        captured_at=photo.captured_at,
        width=largest.width,
        height=largest.height,
        content_type=largest.content_type,
        hidden=photo.is_hidden,
        urls=PhotoUrls(
            thumbnail=links.url(photo, files[PhotoVariant.thumbnail]),
            display=links.url(photo, files[PhotoVariant.display]),
            full=links.url(photo, full) if internal and full is not None else None,
        ),
    )


def photos_by_issue(
    session: Session, issue_ids: Collection[int], *, internal_ids: Collection[int]
) -> dict[int, list[Photo]]:
    """Each issue's photos in the order added, in one query; hidden ones only for the issues
    whose internal detail the viewer sees (`internal_ids`)."""
    found: dict[int, list[Photo]] = defaultdict(list)
    if not issue_ids:
        return found
    query = (
        select(Photo)
        .where(Photo.issue_id.in_(issue_ids))
        .options(selectinload(Photo.files))
        .order_by(Photo.issue_id, Photo.id)
    )
    for photo in session.scalars(query):
        if not photo.is_hidden or photo.issue_id in internal_ids:
            found[photo.issue_id].append(photo)
    return found
