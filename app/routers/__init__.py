"""HTTP only: parse, authorise, call one service, answer."""

from fastapi import APIRouter

from app.routers import (
    agencies,
    auth,
    categories,
    comments,
    exports,
    feedback,
    follows,
    issues,
    notifications,
    photos,
    response_templates,
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
    comments,
    response_templates,
    follows,
    subscriptions,
    feedback,
    notifications,
    exports,
    stats,
):
    api_router.include_router(module.router)
