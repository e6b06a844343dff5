"""Request bodies that carry photos: a multipart reader over the body app.http spooled (each
photo is counted as it is parsed and refused the moment it passes its limit), the cleaning of
the photos off the event loop, and the two shapes of a report (JSON, or JSON and photos in one
multipart request)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser

from app import i18n
from app.deps import PhotoWorkersDep, SettingsDep
from app.errors import (
    BadRequest,
    FieldText,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http.body import (
    PHOTO_FIELD,
    PartReader,
    boundary_of,
    check_json,
    is_json,
    media_type,
    photo_name,
)
from app.schemas.issue import IssueCreate
from app.schemas.problem import FieldProblem
from app.services import photos
from app.storage.images import CleanPhoto

# Form fields other than photos hold small JSON documents.
MAX_FIELD_BYTES = 64_000
MAX_FIELDS = 8
# Answers to a category's questions (`attribute[code]`, one per ticked box of a list): a few
# dozen at most, each a small field.
MAX_ANSWER_FIELDS = 64


@dataclass
class UploadedPhoto:
    position: int  # 1-based, in the order sent
    filename: str | None
    data: bytes

    @property
    def name(self) -> i18n.Text:
        return photo_name(self.position, self.filename)


@dataclass
class Upload:
    fields: dict[str, str]
    photos: list[UploadedPhoto]
    # SHA-256 over the parts' names and contents, for Idempotency-Key fingerprints: a retry
    # with a new multipart boundary is still the same request.
    body_digest: str


def is_multipart(request: Request) -> bool:
    return media_type(request.headers) == "multipart/form-data"


class _Collector(PartReader):
    def __init__(
        self,
        *,
        max_photo_bytes: int,
        max_photos: int,
        allowed_fields: set[str],
        answer_prefix: str | None,
    ) -> None:
        super().__init__(max_photo_bytes=max_photo_bytes)
        self.max_photos = max_photos
        self.allowed_fields = allowed_fields
        self.answer_prefix = answer_prefix
        self.fields: dict[str, str] = {}
        self.answers = 0  # of the fields, those answering the category's questions
        self.photos: list[UploadedPhoto] = []
        self.data = bytearray()
        self.digest = hashlib.sha256()

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self.data = bytearray()

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        if self.part.name == PHOTO_FIELD:
            if len(self.photos) >= self.max_photos:
                raise _problem(
                    f"At most {self.max_photos} photos may be sent for one issue.",
                    "too_many_photos",
                )
        elif self.answer_prefix and self.part.name.startswith(self.answer_prefix):
            if self.answers >= MAX_ANSWER_FIELDS:
                raise _problem("Too many form fields.", "too_many_fields")
            self.answers += 1
        elif self.part.name not in self.allowed_fields:
            expected = ", ".join(sorted({PHOTO_FIELD, *self.allowed_fields}))
            raise _problem(
                f"Unexpected form part {self.part.name!r}; the parts are: {expected}.",
                "unexpected_part",
                location=f"body.{self.part.name}",
            )
        # Each bound counts its own kind: a form with every field and an answer is not too many.
        elif len(self.fields) - self.answers >= MAX_FIELDS:
            raise _problem("Too many form fields.", "too_many_fields")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        super().on_part_data(data, start, end)
        self.data += data[start:end]
        if self.part.name != PHOTO_FIELD and len(self.data) > MAX_FIELD_BYTES:
            raise _problem(
                f"The form part {self.part.name!r} is larger than {MAX_FIELD_BYTES} bytes.",
                "field_too_large",
                location=f"body.{self.part.name}",
            )

    def on_part_end(self) -> None:
        self.digest.update(self.part.name.encode() + b"\0")
        self.digest.update(hashlib.sha256(self.data).digest())
        if self.part.name == PHOTO_FIELD:
            self.photos.append(
                UploadedPhoto(len(self.photos) + 1, self.part.filename, bytes(self.data))
            )
        else:
            if self.part.name in self.fields:
                raise _problem(f"The form part {self.part.name!r} was sent twice.", "duplicate")
            self.fields[self.part.name] = self.data.decode("utf-8", "replace")
        super().on_part_end()


def _problem(detail: str, code: str, *, location: str = "body.photo") -> ValidationFailed:
    return ValidationFailed(
        detail, errors=[FieldProblem(location=location, message=detail, code=code)]
    )


async def read_upload(
    request: Request,
    *,
    max_photo_bytes: int,
    max_photos: int,
    fields: set[str],
    answer_prefix: str | None = None,
) -> Upload:
    """Parse a multipart/form-data body chunk by chunk: `photo` parts (any number up to
    `max_photos`, each up to `max_photo_bytes`), the named small form fields, and fields
    named with `answer_prefix` (answers to a category's questions)."""
    if not is_multipart(request):
        raise UnsupportedMediaType(
            "Send photos as multipart/form-data, each in a part named 'photo'."
        )
    boundary = boundary_of(request.headers)
    if boundary is None:
        raise BadRequest("The multipart Content-Type has no boundary.")
    collector = _Collector(
        max_photo_bytes=max_photo_bytes,
        max_photos=max_photos,
        allowed_fields=fields,
        answer_prefix=answer_prefix,
    )
    parser = MultipartParser(boundary, collector.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise BadRequest(f"The multipart body is malformed: {exc}.") from None
    if collector.part.name:
        raise BadRequest("The multipart body ended in the middle of a part; send it again.")
    return Upload(collector.fields, collector.photos, collector.digest.hexdigest())


async def clean_upload(
    request: Request,
    settings: SettingsDep,
    workers: PhotoWorkersDep,
    *,
    fields: set[str],
    answer_prefix: str | None = None,
    browser_form: bool = False,
) -> tuple[dict[str, str], list[CleanPhoto]]:
    """Read a multipart upload, then clean its photos on the photo worker threads
    (`photo_workers` of them; more uploads wait their turn), off the event loop.

    A browser's form sends its file input even when no file was chosen, as a part with no file
    name and no content: with `browser_form` that part means "no photo"."""
    upload = await read_upload(
        request,
        max_photo_bytes=settings.photo_max_bytes,
        max_photos=settings.photo_max_per_issue,
        fields=fields,
        answer_prefix=answer_prefix,
    )
    request.state.body_digest = upload.body_digest
    if browser_form:
        upload.photos = [p for p in upload.photos if p.filename or p.data]

    work = functools.partial(
        photos.clean_uploads,
        [(p.name, p.data) for p in upload.photos],
        photos.limits_of(settings),
    )
    return upload.fields, await asyncio.get_running_loop().run_in_executor(workers, work)


async def photos_only(
    request: Request, settings: SettingsDep, workers: PhotoWorkersDep
) -> list[CleanPhoto]:
    _, cleaned = await clean_upload(request, settings, workers, fields=set())
    if not cleaned:
        detail = i18n.text("error.photo.none")
        raise ValidationFailed(detail, errors=[FieldText("body.photo", detail, "missing")])
    return cleaned


@dataclass(frozen=True)
class Report:
    body: IssueCreate
    photos: list[CleanPhoto]


def _issue_create(raw: bytes, location: tuple[str, ...]) -> IssueCreate:
    check_json(raw)
    try:
        return IssueCreate.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": (*location, *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


async def read_report(request: Request, settings: SettingsDep, workers: PhotoWorkersDep) -> Report:
    """The report as JSON, or as multipart with the JSON in a part named `issue` and up to
    `photo_max_per_issue` parts named `photo`: one call from a phone."""
    if is_multipart(request):
        fields, cleaned = await clean_upload(request, settings, workers, fields={"issue"})
        if "issue" not in fields:
            raise _problem(
                "Send the report itself as JSON in a multipart part named 'issue'.",
                "missing",
                location="body.issue",
            )
        return Report(_issue_create(fields["issue"].encode(), ("body", "issue")), cleaned)
    if not is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType(
            "Send the report as JSON (Content-Type: application/json), or as multipart/form-data "
            "with the JSON in a part named 'issue' and photos in parts named 'photo'."
        )
    return Report(_issue_create(await request.body(), ("body",)), [])


# OpenAPI request bodies (`openapi_extra`): the routes read their bodies themselves.
_PHOTO_PARTS = {"type": "array", "items": {"type": "string", "format": "binary"}}
PHOTOS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"photo": _PHOTO_PARTS},
                    "required": ["photo"],
                }
            }
        },
    }
}
REPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/IssueCreate"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "issue": {"type": "string", "description": "The IssueCreate as JSON."},
                        "photo": _PHOTO_PARTS,
                    },
                    "required": ["issue"],
                },
                "encoding": {"issue": {"contentType": "application/json"}},
            },
        },
    }
}
