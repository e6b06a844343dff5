"""Whom to call in an emergency: the city's number and the districts' own, read by anyone (the
pages and apps show them), written by admins. Reports stopped as emergencies are told the
number of their point (`services.emergencies`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from app.deps import SessionDep, SettingsDep, require_role
from app.errors import problem_responses
from app.http.route import UnitOfWorkRoute
from app.models import Role, User
from app.schemas.emergency import EmergencyNumbersRead, EmergencyNumbersUpdate
from app.services import emergencies

router = APIRouter(prefix="/emergency-numbers", tags=["emergencies"], route_class=UnitOfWorkRoute)

AdminUser = Annotated[User, require_role(Role.admin)]


@router.get("", summary="The emergency numbers of the city and its districts")
def get_emergency_numbers(session: SessionDep, settings: SettingsDep) -> EmergencyNumbersRead:
    return EmergencyNumbersRead.model_validate(
        emergencies.numbers(session, fallback=settings.emergency_number)
    )


@router.patch(
    "",
    responses=problem_responses(400, 401, 403, 415, 422),
    summary="Set the city's or districts' emergency numbers (admins)",
)
def update_emergency_numbers(
    body: EmergencyNumbersUpdate, session: SessionDep, settings: SettingsDep, admin: AdminUser
) -> EmergencyNumbersRead:
    """Only what the body names changes: `city` (null: the deployment's setting applies) and
    each district in `districts` (null: the city's number applies there). All or none."""
    emergencies.set_numbers(
        session,
        city=body.city if "city" in body.model_fields_set else emergencies.KEEP,
        districts=body.districts,
        editor=admin,
    )
    return get_emergency_numbers(session, settings)
