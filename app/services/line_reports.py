"""Reports through LINE: a resident sends the place (a location message), a photo and the
problem in words, in a small conversation kept per LINE user; the words complete the report,
filed by the resident's own citizen account in the city's general category (triage sorts it),
and status updates are pushed to the chat by the worker (the `line` channel).

`LineIntake` runs one verified webhook call: each network step (a reply, the photo's download,
the profile's language) happens outside any transaction, and each change commits in a short
transaction of its own. Replies and pushes are in the language of the resident's LINE profile,
read when they first write or (again) follow: Thai for Thai, English for any other language."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence
from typing import Any

from linebot.v3.webhooks import (
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app import i18n
from app.config import Settings
from app.db import Database
from app.errors import DomainError
from app.http.limits import Action, Limiter
from app.models import Issue, Language, LineContact, LonLat, PhotoKind, User
from app.models.base import utcnow
from app.services import accounts, catalog, issues, photos
from app.services.notifications.channels import line
from app.services.notifications.tokens import page_link
from app.spatial import SpatialBackend
from app.storage import PhotoStore
from app.storage.images import CleanPhoto

log = logging.getLogger(__name__)
CANCEL = frozenset({"cancel", "ยกเลิก"})
TITLE_CHARS = 120


def _device_id(secret_key: str, line_user_id: str) -> str:
    # Keyed, so nobody who learns a LINE user id can present it as an X-Device-Id.
    digest = hmac.new(secret_key.encode(), line_user_id.encode(), hashlib.sha256).hexdigest()
    return f"line-{digest}"


def contact_of(session: Session, *, line_user_id: str, secret_key: str) -> LineContact:
    """The LINE user's contact, with the citizen account their reports belong to (made on the
    first message)."""
    contact = session.get(LineContact, line_user_id)
    if contact is None:
        user = accounts.device_user(session, _device_id(secret_key, line_user_id))
        contact = LineContact(line_user_id=line_user_id, user_id=user.id)
        session.add(contact)
        session.flush()
    return contact


def language_of_profile(tag: str | None) -> Language | None:
    """Thai for a Thai LINE, English for any other we have no messages in; None: not said."""
    if not tag:
        return None
    return i18n.accepted(tag) or Language.en


def record_location(
    contact: LineContact, *, latitude: float, longitude: float, address: str | None
) -> None:
    contact.latitude, contact.longitude = latitude, longitude
    contact.address = address[:500] if address else None
    contact.updated_at = utcnow()


def record_photo(contact: LineContact, *, message_id: str) -> None:
    contact.photo_message_id = message_id
    contact.updated_at = utcnow()


def forget_draft(contact: LineContact) -> None:
    contact.latitude = contact.longitude = None
    contact.address = contact.photo_message_id = None
    contact.updated_at = utcnow()


def file_report(
    session: Session,
    *,
    contact: LineContact,
    text: str,
    cleaned: Sequence[CleanPhoto],
    settings: Settings,
    store: PhotoStore,
    spatial: SpatialBackend,
) -> Issue:
    """The draft and the words as a report by the contact's account, in the general category,
    through the same rules as any report (routing, emergencies, the photo's checks)."""
    assert contact.latitude is not None
    assert contact.longitude is not None
    reporter = session.get_one(User, contact.user_id)
    title = text.split("\n", 1)[0].strip()[:TITLE_CHARS]
    issue = issues.create_issue(
        session,
        spatial=spatial,
        reporter=reporter,
        category_code=catalog.general_category(session).code,
        title=title,
        description=text,
        location=LonLat(contact.longitude, contact.latitude),
        address=contact.address,
        channel="line",
        emergency_number=settings.emergency_number,
    ).issue
    if cleaned:
        photos.add_photos(
            session,
            store=store,
            issue=issue,
            uploader=reporter,
            kind=PhotoKind.report,
            photos=cleaned,
            max_per_issue=settings.photo_max_per_issue,
        )
    forget_draft(contact)
    return issue


class LineIntake:
    """What one verified webhook call's events do, in order."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        store: PhotoStore,
        limiter: Limiter,
        address: str,
    ) -> None:
        self.settings = settings
        self.database = database
        self.store = store
        self.limiter = limiter
        self.address = address  # of the caller (LINE's servers), for the limits

    async def handle(self, events: Sequence[Any]) -> None:
        for event in events:
            source = getattr(event, "source", None)
            if not isinstance(source, UserSource) or not source.user_id:
                continue  # groups and rooms: reports come from one resident's own chat
            try:
                await self._one(event, source.user_id)
            except line.ApiError:
                # LINE did not take our answer (an expired reply token): the change stands.
                log.warning("LINE did not take the answer to a %s event", event.type)

    async def _one(self, event: Any, line_user_id: str) -> None:
        if isinstance(event, UnfollowEvent):
            # The resident blocked the account: nothing more is pushed to them.
            await asyncio.to_thread(self._forget, line_user_id)
            return
        if not isinstance(event, FollowEvent | MessageEvent):
            return
        heard = await self._profile_language(event, line_user_id)
        if isinstance(event, FollowEvent):
            language = await asyncio.to_thread(self._change, line_user_id, None, heard)
            await self._reply(event, i18n.text("line.welcome"), language)
            return
        message = event.message
        if isinstance(message, LocationMessageContent):

            def place(contact: LineContact) -> None:
                record_location(
                    contact,
                    latitude=message.latitude,
                    longitude=message.longitude,
                    address=message.address,
                )

            language = await asyncio.to_thread(self._change, line_user_id, place, heard)
            await self._reply(event, i18n.text("line.got_location"), language)
        elif isinstance(message, ImageMessageContent):

            def photo(contact: LineContact) -> None:
                record_photo(contact, message_id=message.id)

            language = await asyncio.to_thread(self._change, line_user_id, photo, heard)
            await self._reply(event, i18n.text("line.got_photo"), language)
        elif isinstance(message, TextMessageContent):
            await self._text(event, line_user_id, message.text.strip(), heard)

    async def _profile_language(self, event: Any, line_user_id: str) -> Language | None:
        """The profile's language, asked of LINE for a resident new to us or following again
        (not on every message); None when not asked or not told."""
        if not isinstance(event, FollowEvent) and await asyncio.to_thread(
            self._known, line_user_id
        ):
            return None
        try:
            tag = await asyncio.to_thread(line.profile_language, self.settings, line_user_id)
        except (line.ApiError, OSError) as unreadable:
            log.info("LINE profile of a resident not read: %s", unreadable)
            return None
        return language_of_profile(tag)

    async def _text(self, event: Any, line_user_id: str, text: str, heard: Language | None) -> None:
        if text.lower() in CANCEL:
            language = await asyncio.to_thread(self._change, line_user_id, forget_draft, heard)
            await self._reply(event, i18n.text("line.cancelled"), language)
            return
        draft = await asyncio.to_thread(self._draft, line_user_id, heard)
        user_id, language, has_place, photo_id = draft
        if not has_place:
            await self._reply(event, i18n.text("line.need_location"), language)
            return
        notes: list[i18n.Text] = []
        cleaned: list[CleanPhoto] = []
        if photo_id is not None:
            try:
                cleaned = await self._photo(photo_id)
            except (DomainError, line.ApiError, OSError) as unusable:
                log.info("LINE photo %s not attached: %s", photo_id, unusable)
                notes.append(i18n.text("line.photo_left_out"))
        try:
            if self.limiter.enabled:
                # The same allowance as reports sent to the API.
                await self.limiter.hit(Action.report, self.address, f"user:{user_id}")
            public_id = await asyncio.to_thread(self._file, line_user_id, text, cleaned)
        except DomainError as refused:  # over the allowance, an emergency, outside the city
            await self._reply(event, i18n.text("line.refused", reason=refused.detail), language)
            return
        url = page_link(self.settings.public_base_url, f"/issues/{public_id}")
        await self._reply(
            event, i18n.text("line.reported", id=public_id, url=url, notes=notes), language
        )

    async def _photo(self, message_id: str) -> list[CleanPhoto]:
        data = await asyncio.to_thread(line.content, self.settings, message_id)
        limits = photos.limits_of(self.settings)
        if len(data) > self.settings.photo_max_bytes:
            raise DomainError(i18n.text("line.photo_left_out"))
        return await asyncio.to_thread(
            photos.clean_uploads, [(i18n.text("line.photo_name"), data)], limits
        )

    async def _reply(self, event: Any, text: i18n.Text, language: Language) -> None:
        token = getattr(event, "reply_token", None)
        if token:
            await asyncio.to_thread(
                line.reply, self.settings, reply_token=token, text=text.render(language)
            )

    def _known(self, line_user_id: str) -> bool:
        with self.database.session(write=False) as session:
            return session.get(LineContact, line_user_id) is not None

    def _contact(
        self, session: Session, line_user_id: str, heard: Language | None
    ) -> tuple[LineContact, User]:
        """The contact and its account, which reads the profile's language when LINE said it."""
        contact = contact_of(
            session, line_user_id=line_user_id, secret_key=self.settings.secret_key
        )
        user = session.get_one(User, contact.user_id)
        if heard is not None:
            user.language = heard
        return contact, user

    def _change(
        self,
        line_user_id: str,
        change: Callable[[LineContact], None] | None,
        heard: Language | None,
    ) -> Language:
        """One short transaction on the contact; the language its account reads."""
        with self.database.session(write=True) as session, session.begin():
            contact, user = self._contact(session, line_user_id, heard)
            if change is not None:
                change(contact)
            return user.language

    def _draft(
        self, line_user_id: str, heard: Language | None
    ) -> tuple[int, Language, bool, str | None]:
        with self.database.session(write=True) as session, session.begin():
            contact, user = self._contact(session, line_user_id, heard)
            return user.id, user.language, contact.latitude is not None, contact.photo_message_id

    def _file(self, line_user_id: str, text: str, cleaned: list[CleanPhoto]) -> str:
        with self.database.session(write=True) as session, session.begin():
            contact = contact_of(
                session, line_user_id=line_user_id, secret_key=self.settings.secret_key
            )
            if contact.latitude is None:
                # Cancelled meanwhile (another message of the same call).
                raise DomainError(i18n.text("line.need_location"))
            issue = file_report(
                session,
                contact=contact,
                text=text,
                cleaned=cleaned,
                settings=self.settings,
                store=self.store,
                spatial=self.database.spatial,
            )
            return issue.public_id

    def _forget(self, line_user_id: str) -> None:
        with self.database.session(write=True) as session, session.begin():
            session.execute(delete(LineContact).where(LineContact.line_user_id == line_user_id))
