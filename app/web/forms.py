"""Forms posted by the pages: read once (app.http spooled the body already), the reader's form
token checked before anything else."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from app import i18n
from app.errors import FieldText, UnsupportedMediaType, ValidationFailed
from app.web.context import CSRF_FIELD, Page

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class Form:
    fields: dict[str, str]
    repeated: dict[str, list[str]] = field(default_factory=dict)

    def all(self, name: str) -> list[str]:
        """Every value of a field sent more than once (ticked boxes)."""
        return self.repeated.get(name, [])

    def get(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value.strip() if value is not None else None

    def text(self, name: str, *, max_length: int) -> str:
        """A required text field: refused, with a message for the reader, when empty or long."""
        value = self.get(name) or ""
        if not value:
            message = i18n.text("web.error.required", field=i18n.text(f"web.field.{name}"))
            raise ValidationFailed(message, errors=[FieldText(f"form.{name}", message, "missing")])
        if len(value) > max_length:
            message = i18n.text(
                "web.error.too_long", field=i18n.text(f"web.field.{name}"), max=max_length
            )
            raise ValidationFailed(message, errors=[FieldText(f"form.{name}", message, "long")])
        return value


def checked(
    page: Page, fields: dict[str, str], repeated: dict[str, list[str]] | None = None
) -> Form:
    page.check_csrf(fields.get(CSRF_FIELD))
    return Form(fields, repeated or {})


async def form_of(request: Request, page: Page) -> Form:
    """The posted form's text fields, once its token is checked."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not kind and not await request.body():
        return checked(page, {})  # an empty post carries no token either
    if kind not in FORM_TYPES:
        raise UnsupportedMediaType(i18n.text("web.error.form_type"))
    data = await request.form()
    repeated: dict[str, list[str]] = {}
    for name, value in data.multi_items():
        if isinstance(value, str):
            repeated.setdefault(name, []).append(value)
    return checked(page, {k: v[-1] for k, v in repeated.items()}, repeated)
