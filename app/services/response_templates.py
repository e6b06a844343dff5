"""Agencies' response templates: canned answers in Thai and English whose placeholders are
filled with the issue's real values when staff answer from them."""

from __future__ import annotations

import string
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import i18n
from app.errors import Conflict, Forbidden, InvalidTemplate, NotFound
from app.models import Agency, Issue, Language, ResponseTemplate, Role, User
from app.schemas.problem import FieldProblem
from app.services import permissions

# The fixed set a template may use; each is filled in the language the answer is written in.
PLACEHOLDERS: dict[str, str] = {
    "issue_id": "the issue's public id",
    "title": "the issue's title",
    "category": "the category's name",
    "agency": "the handling agency's name",
    "status": "the status, as a label",
    "acknowledge_due_date": "the date it should be acknowledged by (YYYY-MM-DD, local time)",
    "resolve_due_date": "the date it should be resolved by (YYYY-MM-DD, local time)",
}
ALLOWED = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
BODY_FIELDS = {Language.th: "body_th", Language.en: "body_en"}


def _problems(field: str, template: str) -> tuple[list[FieldProblem], i18n.Text | None]:
    """What is wrong with one body's placeholders (malformed braces first: nothing else can be
    read past them), and the sentence that says so."""
    location = f"body.{field}"
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return [
            FieldProblem(location=location, message=str(exc), code="malformed_placeholder")
        ], i18n.text("template.malformed", field=field, problem=str(exc), allowed=ALLOWED)
    unknown: list[str] = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if spec or conversion:
            problem = f"{{{name}}} takes no conversion or format"
            return [
                FieldProblem(location=location, message=problem, code="malformed_placeholder")
            ], i18n.text("template.malformed", field=field, problem=problem, allowed=ALLOWED)
        if name not in PLACEHOLDERS and "{" + name + "}" not in unknown:
            unknown.append("{" + name + "}")
    if not unknown:
        return [], None
    names = ", ".join(unknown)
    return [
        FieldProblem(
            location=location, message=f"unknown placeholders: {names}", code="unknown_placeholder"
        )
    ], i18n.text("template.unknown_placeholders", field=field, names=names, allowed=ALLOWED)


def check_bodies(bodies: dict[str, str]) -> None:
    """Refuse (422) bodies with unknown placeholders or malformed braces, naming them and
    listing the allowed ones."""
    errors: list[FieldProblem] = []
    details: list[i18n.Text] = []
    for field, body in bodies.items():
        found, detail = _problems(field, body)
        errors += found
        if detail is not None:
            details.append(detail)
    if details:
        raise InvalidTemplate(
            details[0], errors=errors, allowed_placeholders=[f"{{{p}}}" for p in PLACEHOLDERS]
        )


def check_reader(user: User, agency: Agency) -> None:
    if not permissions.can_see_agency_queue(user, agency.id):
        raise Forbidden(i18n.text("template.read_forbidden", agency=agency.slug))


def check_manager(user: User, agency: Agency) -> None:
    """Managers of the agency, and admins, write its templates; its agents use them."""
    if not (
        permissions.is_admin(user) or (user.role == Role.manager and user.agency_id == agency.id)
    ):
        raise Forbidden(i18n.text("template.manage_forbidden", agency=agency.slug))


def list_templates(session: Session, *, agency: Agency) -> list[ResponseTemplate]:
    return list(
        session.scalars(
            select(ResponseTemplate)
            .where(ResponseTemplate.agency_id == agency.id)
            .order_by(ResponseTemplate.name, ResponseTemplate.id)
        )
    )


def get_template(session: Session, *, agency: Agency, template_id: int) -> ResponseTemplate:
    found = session.get(ResponseTemplate, template_id)
    if found is None or found.agency_id != agency.id:
        raise NotFound(i18n.text("template.not_found", agency=agency.slug, id=template_id))
    return found


def _check_name_free(
    session: Session, agency: Agency, name: str, template_id: int | None = None
) -> None:
    taken = session.scalar(
        select(ResponseTemplate.id).where(
            ResponseTemplate.agency_id == agency.id, ResponseTemplate.name == name
        )
    )
    if taken is not None and taken != template_id:
        raise Conflict(i18n.text("template.name_taken", agency=agency.slug, name=name))


def create_template(
    session: Session, *, agency: Agency, name: str, body_th: str, body_en: str
) -> ResponseTemplate:
    """A new template; its name is unique within the agency."""
    check_bodies({"body_th": body_th, "body_en": body_en})
    _check_name_free(session, agency, name)
    template = ResponseTemplate(agency_id=agency.id, name=name, body_th=body_th, body_en=body_en)
    session.add(template)
    session.flush()
    return template


def update_template(
    session: Session, *, agency: Agency, template: ResponseTemplate, changes: dict[str, str]
) -> ResponseTemplate:
    check_bodies({k: v for k, v in changes.items() if k in BODY_FIELDS.values()})
    if "name" in changes:
        _check_name_free(session, agency, changes["name"], template.id)
    for name, value in changes.items():
        setattr(template, name, value)
    session.flush()
    return template


def delete_template(session: Session, *, template: ResponseTemplate) -> None:
    """Comments written from it keep their text (their link to it is cleared)."""
    session.delete(template)
    session.flush()


def values(issue: Issue, agency: Agency | None, lang: Language, zone: ZoneInfo) -> dict[str, str]:
    """The placeholders' values for this issue, worded in `lang`. Needs issue.category loaded."""
    return {
        "issue_id": issue.public_id,
        "title": issue.title,
        "category": getattr(issue.category, f"name_{lang.value}"),
        "agency": getattr(agency, f"name_{lang.value}")
        if agency
        else i18n.t("template.no_agency", lang),
        "status": i18n.t(f"label.status.{issue.status.value}", lang),
        "acknowledge_due_date": issue.acknowledge_due_at.astimezone(zone).date().isoformat(),
        "resolve_due_date": issue.resolve_due_at.astimezone(zone).date().isoformat(),
    }


def render(
    template: ResponseTemplate,
    *,
    issue: Issue,
    agency: Agency | None,
    languages: list[Language],
    zone: ZoneInfo,
) -> str:
    """The template in these languages (Thai first when both), a blank line between them."""
    return "\n\n".join(
        getattr(template, BODY_FIELDS[lang]).format_map(values(issue, agency, lang, zone))
        for lang in languages
    )
