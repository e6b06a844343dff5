"""HTTP only: parse, authorise, call one service, answer."""

from fastapi import APIRouter, Depends

from app.http.body import json_media_type
from app.http.caller import recognise_caller
from app.http.params import refuse_control_characters, refuse_unknown_query
from app.routers import (
    agencies,
    auth,
    categories,
    comments,
    contractors,
    districts,
    duplicates,
    emergency_numbers,
    exports,
    feed,
    feedback,
    follows,
    issues,
    kpis,
    maps,
    moderation,
    notifications,
    photos,
    priority_rules,
    response_templates,
    stats,
    subscriptions,
    users,
    work,
)

# Who calls is known first, so that every answer (errors included) is in their saved language.
# Open311 is not under it: its clients send extra parameters the GeoReport spec lets them send.
api_router = APIRouter(
    prefix="/api/v1",
    dependencies=[
        Depends(recognise_caller),
        Depends(refuse_unknown_query),
        Depends(refuse_control_characters),
        Depends(json_media_type),
    ],
)
for module in (
    auth,
    users,
    categories,
    agencies,
    districts,
    emergency_numbers,
    # Before issues: /issues/similar must not be read as the issue with id "similar".
    duplicates,
    issues,
    photos,
    comments,
    moderation,
    response_templates,
    priority_rules,
    follows,
    subscriptions,
    feedback,
    notifications,
    exports,
    stats,
    kpis,
    maps,
    work,
    contractors,
    feed,
):
    api_router.include_router(module.router)
