"""An agency's response templates: its managers (and admins) write them, its staff use them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.deps import CurrentUser, PathId, SessionDep
from app.errors import answers, problem_responses
from app.http.route import UnitOfWorkRoute
from app.models import ResponseTemplate
from app.routers.agencies import CurrentAgency
from app.schemas.conversation import (
    ResponseTemplateCreate,
    ResponseTemplateRead,
    ResponseTemplateUpdate,
)
from app.services import response_templates

router = APIRouter(
    prefix="/agencies/{agency_id}/response-templates",
    tags=["response templates"],
    route_class=UnitOfWorkRoute,
)


@answers(403, 404)
def load_template(
    session: SessionDep, agency: CurrentAgency, user: CurrentUser, template_id: PathId
) -> ResponseTemplate:
    response_templates.check_reader(user, agency)
    return response_templates.get_template(session, agency=agency, template_id=template_id)


CurrentTemplate = Annotated[ResponseTemplate, Depends(load_template)]


def _read(template: ResponseTemplate) -> ResponseTemplateRead:
    return ResponseTemplateRead(
        id=template.id,
        agency_id=template.agency_id,
        name=template.name,
        body_th=template.body_th,
        body_en=template.body_en,
        created_at=template.created_at,
        updated_at=template.updated_at,
    )


@router.get(
    "",
    response_model=list[ResponseTemplateRead],
    responses=problem_responses(401, 403, 404),
    summary="The agency's response templates",
)
def list_templates(
    agency: CurrentAgency, session: SessionDep, user: CurrentUser
) -> list[ResponseTemplateRead]:
    """For the agency's staff and admins, by name."""
    response_templates.check_reader(user, agency)
    return [_read(t) for t in response_templates.list_templates(session, agency=agency)]


@router.post(
    "",
    status_code=201,
    response_model=ResponseTemplateRead,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Write a response template",
)
def create_template(
    agency: CurrentAgency, body: ResponseTemplateCreate, session: SessionDep, user: CurrentUser
) -> ResponseTemplateRead:
    """Managers of the agency and admins. Bodies in Thai and English may use the placeholders
    {issue_id}, {title}, {category}, {agency}, {status}, {acknowledge_due_date} and
    {resolve_due_date}; anything else, or a malformed brace, is a 422 naming it."""
    response_templates.check_manager(user, agency)
    template = response_templates.create_template(
        session, agency=agency, name=body.name, body_th=body.body_th, body_en=body.body_en
    )
    return _read(template)


@router.get(
    "/{template_id}",
    response_model=ResponseTemplateRead,
    responses=problem_responses(401, 403, 404),
    summary="One response template",
)
def get_template(template: CurrentTemplate) -> ResponseTemplateRead:
    return _read(template)


@router.patch(
    "/{template_id}",
    response_model=ResponseTemplateRead,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Change a response template",
)
def update_template(
    template: CurrentTemplate,
    agency: CurrentAgency,
    body: ResponseTemplateUpdate,
    session: SessionDep,
    user: CurrentUser,
) -> ResponseTemplateRead:
    response_templates.check_manager(user, agency)
    response_templates.update_template(
        session, agency=agency, template=template, changes=body.model_dump(exclude_unset=True)
    )
    return _read(template)


@router.delete(
    "/{template_id}",
    status_code=204,
    responses=problem_responses(401, 403, 404),
    summary="Delete a response template",
)
def delete_template(
    template: CurrentTemplate, agency: CurrentAgency, session: SessionDep, user: CurrentUser
) -> Response:
    """Comments written from it keep their text."""
    response_templates.check_manager(user, agency)
    response_templates.delete_template(session, template=template)
    return Response(status_code=204)
