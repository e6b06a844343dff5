"""Query-parameter rules that hold on every route, as a dependency of every router."""

from __future__ import annotations

from fastapi import Request

from app.errors import FieldText, ValidationFailed, fields_detail
from app.schemas.base import CONTROL_CHARACTERS_MESSAGE, has_control_characters


def refuse_control_characters(request: Request) -> None:
    """No query parameter may carry control characters (PostgreSQL text cannot hold NUL, and
    none belongs in a search, a code or an address): refused alike on every route."""
    problems = [
        FieldText(f"query.{name}", CONTROL_CHARACTERS_MESSAGE, "invalid")
        for name, value in request.query_params.multi_items()
        if has_control_characters(value)
    ]
    if problems:
        raise ValidationFailed(fields_detail(problems), errors=problems)
