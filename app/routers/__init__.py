"""HTTP only: parse, authorise, call one service, answer."""

from fastapi import APIRouter

from app.routers import agencies, auth, categories, exports, issues, photos, stats, users

api_router = APIRouter(prefix="/api/v1")
for module in (auth, users, categories, agencies, issues, photos, exports, stats):
    api_router.include_router(module.router)
