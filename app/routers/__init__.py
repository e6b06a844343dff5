"""HTTP only: parse, authorise, call one service, answer."""

from fastapi import APIRouter

from app.routers import (
    agencies,
    auth,
    categories,
    feedback,
    follows,
    issues,
    notifications,
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
    follows,
    subscriptions,
    feedback,
    notifications,
):
    api_router.include_router(module.router)
