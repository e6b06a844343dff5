"""Districts as GeoJSON: read by anyone, written by admins."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Path, Query, Response

from app import i18n
from app.deps import SessionDep, require_role
from app.errors import ValidationFailed, problem_responses
from app.http.route import UnitOfWorkRoute
from app.models import Role, User
from app.schemas.catalog import DistrictCollection, DistrictFeature
from app.schemas.problem import FieldProblem
from app.services import districts
from app.spatial.geojson import MAX_ZOOM

router = APIRouter(prefix="/districts", tags=["districts"], route_class=UnitOfWorkRoute)

AdminUser = Annotated[User, require_role(Role.admin)]
GEOJSON = "application/geo+json"
GEOJSON_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON: {}}, "description": "GeoJSON"}
}


# For maps: outlines as a web map at that zoom draws them, a fraction of the full geometry's bytes.
Zoom = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_ZOOM,
        description="Draw at this web-map zoom level (256-pixel tiles): each outline is "
        "simplified so no vertex moves more than half a pixel there, and its coordinates carry "
        "only the decimals that zoom can show (no point ends more than a pixel from the true "
        "outline). Left out: the full geometry, as stored.",
    ),
]


def _geojson(document: object) -> Response:
    return Response(orjson.dumps(document), media_type=GEOJSON)


@router.get(
    "",
    responses={**GEOJSON_ANSWER, **problem_responses(422)},
    summary="All districts (a FeatureCollection)",
)
def list_districts(session: SessionDep, zoom: Zoom = None) -> Response:
    return _geojson(
        {
            "type": "FeatureCollection",
            "features": [
                districts.feature(d, zoom=zoom) for d in districts.list_districts(session)
            ],
        }
    )


@router.get(
    "/{code}",
    responses={**GEOJSON_ANSWER, **problem_responses(404, 422)},
    summary="One district (a Feature)",
)
def get_district(
    code: Annotated[str, Path(max_length=64)], session: SessionDep, zoom: Zoom = None
) -> Response:
    return _geojson(districts.feature(districts.get_district(session, code), zoom=zoom))


@router.put(
    "",
    responses={**GEOJSON_ANSWER, **problem_responses(400, 401, 403, 413, 415, 422)},
    summary="Create or update districts (admins)",
)
def put_districts(
    body: Annotated[DistrictFeature | DistrictCollection, Body(discriminator="type")],
    session: SessionDep,
    admin: AdminUser,
) -> Response:
    """A GeoJSON Feature or FeatureCollection of (Multi)Polygons; each feature's
    `properties.code` (or its `id`) names the district, `properties.names` is a language map
    (the city's default language required). All or none. An invalid or self-intersecting
    polygon is repaired when only one repair is possible (the answer's feature then says why in
    `properties.repaired`); otherwise it refuses the whole body with the reason. Issues already
    placed keep their district."""
    features = body.features if isinstance(body, DistrictCollection) else [body]
    missing = [i for i, f in enumerate(features) if f.code() is None]
    if missing:
        raise ValidationFailed(
            i18n.text("error.district.invalid"),
            errors=[
                FieldProblem(
                    location=f"body.features[{i}].properties.code",
                    message="give the district code in properties.code or the feature's id",
                    code="missing",
                )
                for i in missing
            ],
        )
    written, _, repaired = districts.put_districts(
        session,
        features=[(f.code() or "", f.properties.names, f.geometry) for f in features],
        editor=admin,
    )
    return _geojson(
        {
            "type": "FeatureCollection",
            "features": [districts.feature(d, repaired=repaired.get(d.code)) for d in written],
        }
    )
