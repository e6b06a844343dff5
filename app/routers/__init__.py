"""HTTP only: parse, authorise, call one service, answer."""

from fastapi import APIRouter

from app.routers import (
    agencies,
    auth,
    categories,
    exports,
    feed,
    feedback,
    follows,
    issues,
    notifications,
    photos,
    stats,
    subscriptions,
    users,
    work,
)

api_router = APIRouter(prefix="/api/v1")
for module in (
    auth,
    users,
    categories,
    agencies,
    issues,
    photos,
    follows,
    subscriptions,
    feedback,
    notifications,
    exports,
    stats,
    work,
    feed,
):
    api_router.include_router(module.router)
