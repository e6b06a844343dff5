"""Categories of problems (Open311 services)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.deps import Idempotent, SessionDep, SpatialDep, require_role
from app.errors import problem_responses
from app.http.route import UnitOfWorkRoute
from app.models import Category, Role, User
from app.routers.query import point_param
from app.schemas.catalog import CategoryCreate, CategoryRead, CategoryUpdate
from app.services import catalog

router = APIRouter(prefix="/categories", tags=["categories"], route_class=UnitOfWorkRoute)

AdminUser = Annotated[User, require_role(Role.admin)]


@router.get(
    "",
    response_model=list[CategoryRead],
    responses=problem_responses(422),
    summary="What can be reported (here)",
)
def list_categories(
    session: SessionDep,
    spatial: SpatialDep,
    lat: Annotated[
        float | None, Query(ge=-90, le=90, description="With lon: offered here.")
    ] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="With lat.")] = None,
) -> list[Category]:
    """Active categories with their names and service-level targets. With `lat` and `lon`, only
    those some agency covering that point handles, and the city's general category (its
    reports wait in triage)."""
    return catalog.offered_categories(session, spatial=spatial, at=point_param(lat, lon))


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


@router.patch(
    "/{code}",
    response_model=CategoryRead,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Edit or deactivate a category (admins)",
)
def update_category(
    code: Annotated[str, Path(max_length=64)],
    body: CategoryUpdate,
    session: SessionDep,
    admin: AdminUser,
) -> Category:
    category = catalog.get_category(session, code)
    return catalog.update_category(
        session, category=category, editor=admin, changes=body.model_dump(exclude_unset=True)
    )
