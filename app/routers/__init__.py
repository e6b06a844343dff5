"""HTTP only: parse, authorise, call one service, answer."""

from fastapi import APIRouter

from app.routers import agencies, auth, categories, follows, issues, subscriptions, users

api_router = APIRouter(prefix="/api/v1")
for module in (auth, users, categories, agencies, issues, follows, subscriptions):
    api_router.include_router(module.router)
