"""HTTP only: parse, authorise, call one service, answer."""

from fastapi import APIRouter

from app.routers import (
    agencies,
    auth,
    categories,
    exports,
    feedback,
    follows,
    issues,
    notifications,
    photos,
    priority_rules,
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
    issues,
    photos,
    priority_rules,
    follows,
    subscriptions,
    feedback,
    notifications,
    exports,
    stats,
):
    api_router.include_router(module.router)
