"""Query parameters: a route takes those it declares and refuses any other, so a misspelt or
unsupported one (`page_size` for `limit`) is an error instead of an answer to another question;
and no parameter may carry control characters. Both are dependencies of the routers."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app import i18n
from app.errors import BadRequest, FieldText, ValidationFailed, answers, fields_detail
from app.schemas.base import CONTROL_CHARACTERS_MESSAGE, has_control_characters


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def declared_query(route: APIRoute) -> set[str]:
    """The query parameters of the route and of every dependency it has, as clients spell them
    (a walk over a few dozen dependencies: cheaper than any cache keyed by route)."""
    return _query_names(route.dependant)


@answers(400)
async def refuse_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = declared_query(route)
    unknown = [name for name in request.query_params if name not in known]
    if not unknown:
        return
    names = ", ".join(unknown)
    detail = (
        i18n.text("error.query.unknown", names=names, known=", ".join(sorted(known)))
        if known
        else i18n.text("error.query.none_taken", names=names)
    )
    raise BadRequest(
        detail,
        errors=[
            FieldText(f"query.{name}", i18n.text("error.query.not_taken"), "unknown_parameter")
            for name in unknown
        ],
    )


async def refuse_control_characters(request: Request) -> None:
    """No query parameter may carry control characters (PostgreSQL text cannot hold NUL, and
    none belongs in a search, a code or an address): refused alike on every route."""
    problems = [
        FieldText(f"query.{name}", CONTROL_CHARACTERS_MESSAGE, "invalid")
        for name, value in request.query_params.multi_items()
        if has_control_characters(value)
    ]
    if problems:
        raise ValidationFailed(fields_detail(problems), errors=problems)
