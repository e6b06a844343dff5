"""Categories of problems (Open311 services)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from app.deps import Idempotent, SessionDep, require_role
from app.errors import problem_responses
from app.http.route import UnitOfWorkRoute
from app.models import Category, Role, User
from app.schemas.catalog import CategoryCreate, CategoryRead
from app.services import catalog

router = APIRouter(prefix="/categories", tags=["categories"], route_class=UnitOfWorkRoute)

AdminUser = Annotated[User, require_role(Role.admin)]


@router.get("", response_model=list[CategoryRead], summary="What can be reported")
def list_categories(session: SessionDep) -> list[Category]:
    """Active categories with Thai and English names and their service-level targets."""
    return catalog.list_categories(session)


@router.post(
    "",
    status_code=201,
    response_model=CategoryRead,
    dependencies=[Idempotent],
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
    summary="Add a category (admins)",
)
def create_category(body: CategoryCreate, session: SessionDep, admin: AdminUser) -> Category:
    return catalog.create_category(session, **body.model_dump())
