"""The priority rules: which flags raise an issue's priority, how priority scales the deadlines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from app.deps import SessionDep, require_role
from app.errors import problem_responses
from app.http.route import UnitOfWorkRoute
from app.models import Role, User
from app.schemas.priority import PriorityRulesRead, PriorityRulesWrite
from app.services import priorities

router = APIRouter(prefix="/priority-rules", tags=["priority"], route_class=UnitOfWorkRoute)

AdminUser = Annotated[User, require_role(Role.admin)]


@router.get("", response_model=PriorityRulesRead, summary="The priority rules in force")
def get_priority_rules(session: SessionDep) -> PriorityRulesRead:
    """Public, so anyone can see why a flagged issue is due sooner."""
    return PriorityRulesRead.of(priorities.get_rules(session))


@router.put(
    "",
    response_model=PriorityRulesRead,
    responses=problem_responses(400, 401, 403, 413, 415, 422),
    summary="Replace the priority rules (admins)",
)
def put_priority_rules(
    body: PriorityRulesWrite, session: SessionDep, admin: AdminUser
) -> PriorityRulesRead:
    """New reports follow them at once, and the at-risk share applies to every issue at once;
    issues already reported keep their deadlines until their priority or flags change."""
    return PriorityRulesRead.of(priorities.save_rules(session, rules=body.rules(), admin=admin))
