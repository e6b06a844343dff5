"""The pages people use: the public map, the report form, the issue page and the pages behind
every link in a message, the agencies' responsiveness, and the agency desk.

Server-rendered (Jinja2) and calling the same services as the JSON API; a little progressive
JavaScript; static files pinned and served by us (app.web.assets)."""

from __future__ import annotations

from fastapi import APIRouter

from app.web import assets, desk, issue_pages, public_pages, report_page
from app.web.problems import ERROR_PAGES

__all__ = ["ERROR_PAGES", "router"]

router = APIRouter(include_in_schema=False)
for module in (assets, public_pages, report_page, issue_pages, desk):
    router.include_router(module.router)
