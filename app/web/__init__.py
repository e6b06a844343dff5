"""The pages people use: the public map, the report form, the issue page and the pages behind
every link in a message, the agencies' responsiveness, the agency desk, and the page a
contractor's signed link opens.

Server-rendered (Jinja2) and calling the same services as the JSON API; a little progressive
JavaScript; static files pinned and served by us (app.web.assets)."""

from __future__ import annotations

from fastapi import APIRouter

from app.web import assets, contractor_page, desk, issue_pages, public_pages, report_page
from app.web.problems import ERROR_PAGES

__all__ = ["ERROR_PAGES", "router"]

router = APIRouter(include_in_schema=False)
for module in (assets, public_pages, report_page, issue_pages, desk, contractor_page):
    router.include_router(module.router)
