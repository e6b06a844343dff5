"""HTTP only: parse, authorise, call one service, answer."""

from fastapi import APIRouter

from app.routers import (
    agencies,
    auth,
    categories,
    duplicates,
    exports,
    feedback,
    follows,
    issues,
    notifications,
    photos,
    stats,
    subscriptions,
    users,
)

api_router = APIRouter(prefix="/api/v1")
for module in (
    auth,
    users,
    categories,
    agencies,
    # Before issues: /issues/similar must not be read as the issue with id "similar".
    duplicates,
    issues,
    photos,
    follows,
    subscriptions,
    feedback,
    notifications,
    exports,
    stats,
):
    api_router.include_router(module.router)
