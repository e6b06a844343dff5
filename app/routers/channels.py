"""Channels residents report through besides the API and the pages: LINE's webhook."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.deps import PhotoStoreDep, SettingsDep
from app.errors import problem_responses
from app.http.limits import Action, RateLimited, client_address
from app.http.route import UnitOfWorkRoute
from app.services.line_reports import LineIntake
from app.services.notifications.channels import line

router = APIRouter(prefix="/channels", tags=["channels"], route_class=UnitOfWorkRoute)


@router.post(
    "/line/webhook",
    status_code=200,
    dependencies=[RateLimited(Action.line)],
    response_class=Response,
    responses={200: {"description": "Taken"}, **problem_responses(400, 413, 429, 503)},
    summary="LINE Messaging API webhook",
)
async def line_webhook(request: Request, settings: SettingsDep, store: PhotoStoreDep) -> Response:
    """LINE calls this with residents' messages, signed with the channel secret in
    X-Line-Signature: the whole body is read and its signature checked before anything else.
    A location, a photo and then a description make a report; status updates come back in the
    chat."""
    body = await request.body()
    events = line.parse_webhook(settings, body, request.headers.get("x-line-signature"))
    intake = LineIntake(
        settings=settings,
        database=request.app.state.database,
        store=store,
        limiter=request.app.state.limiter,
        address=client_address(request),
    )
    await intake.handle(events)
    return Response(status_code=200)
