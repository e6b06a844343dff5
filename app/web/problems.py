"""Problems shown as pages: a browser that opens a page path and meets an error (no such page or
issue, a form without its token, a rate limit, a moment's unavailability) gets a page in its
reader's language with the same status and headers, not the API's problem+json.

The API, the Open311 and SeeClickFix surfaces, feeds, webhooks and static files answer
problem+json to everyone: their callers are programs, whatever their Accept header says."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import Request
from starlette.responses import Response

from app import i18n
from app.config import Settings
from app.models import Language
from app.schemas.problem import Problem
from app.web.context import Page, choose_language, render

MACHINE_PATHS = (
    "/api/",
    "/open311",
    "/seeclickfix",
    "/channels/",
    "/assets/",
    "/docs",
    "/openapi.json",
    "/problems/",
    "/healthz",
    "/readyz",
    "/metrics",
)


class ErrorPages:
    """The `app.errors.ProblemPages` of the site."""

    def language(self, request: Request) -> Language | None:
        if request.url.path.startswith(MACHINE_PATHS):
            return None
        chosen: Language | None = getattr(request.state, "page_language", None)
        return chosen or choose_language(request, request.app.state.settings)

    def render(
        self, request: Request, problem: Problem, lang: Language, *, worded: bool
    ) -> Response:
        settings: Settings = request.app.state.settings
        # Who is signed in does not matter here, and an error is no moment to ask the database.
        page = Page(
            request=request,
            settings=settings,
            lang=lang,
            user=None,
            zone=ZoneInfo(settings.display_timezone),
        )
        # A detail written for people is shown as it is; a bare one ("Not Found: GET /x") is
        # replaced by the status's own explanation.
        explained = f"web.problem.{problem.status}"
        explanation = (
            problem.detail
            if worded and problem.detail
            else page.t(explained if i18n.has(explained) else "web.problem.other")
        )
        return render(
            page, "problem.html", status=problem.status, problem=problem, explanation=explanation
        )


ERROR_PAGES = ErrorPages()
