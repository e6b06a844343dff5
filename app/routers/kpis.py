"""Public KPIs of the loop as open data: JSON (cached, with ETags), CSV, and their definitions.

No login: the figures are aggregates, groups under k issues are suppressed (`services.kpis`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from starlette.responses import Response

from app import i18n
from app.deps import SessionDep
from app.errors import FieldText, ValidationFailed, problem_responses
from app.http.limits import Action, RateLimited
from app.http.route import UnitOfWorkRoute
from app.models import Agency, Category, District, Flag
from app.routers.stats import RESPONSES, cached
from app.services import kpis
from app.services.kpis import GroupBy, KpiFilter
from app.services.opendata import CSV_RULE, spreadsheet_cell

router = APIRouter(tags=["open data"], route_class=UnitOfWorkRoute)


def kpi_filter(
    session: SessionDep,
    since: Annotated[
        dt.datetime | None, Query(description="Issues reported at or after (ISO 8601).")
    ] = None,
    until: Annotated[dt.datetime | None, Query(description="Issues reported before.")] = None,
    agency: Annotated[str | None, Query(max_length=64, description="An agency's slug.")] = None,
    category: Annotated[str | None, Query(max_length=64, description="A category code.")] = None,
    district: Annotated[str | None, Query(max_length=64, description="A district code.")] = None,
    segment: Annotated[
        Flag | None,
        Query(description="Only issues affecting a segment (accessibility: disabled people)."),
    ] = None,
) -> KpiFilter:
    def known(model: Any, column: Any, value: str | None, name: str) -> int | None:
        if value is None:
            return None
        found = session.scalar(select(model.id).where(column == value))
        if found is None:
            message = i18n.text(f"error.kpis.unknown_{name}", code=value)
            raise ValidationFailed(message, errors=[FieldText(f"query.{name}", message, "unknown")])
        return int(found)

    for value, name in ((since, "since"), (until, "until")):
        if value is not None and value.tzinfo is None:
            message = i18n.text("error.kpis.naive_time")
            raise ValidationFailed(message, errors=[FieldText(f"query.{name}", message, "naive")])
    return KpiFilter(
        since=since,
        until=until,
        agency_id=known(Agency, Agency.slug, agency, "agency"),
        category_id=known(Category, Category.code, category, "category"),
        district_id=known(District, District.code, district, "district"),
        segment=segment,
    )


KpiFilterDep = Annotated[KpiFilter, Depends(kpi_filter)]
By = Annotated[GroupBy | None, Query(description="agency, category or district")]


@router.get("/kpis", responses=RESPONSES, summary="The loop's KPIs, overall or per group")
def get_kpis(request: Request, session: SessionDep, f: KpiFilterDep, by: By = None) -> Response:
    """Every KPI of `/kpis/definitions` for the issues reported in the period, overall and (with
    `by`) per agency, category or district. Groups of fewer than `k` issues are suppressed:
    `suppressed: true` and every figure null."""
    return cached(request, lambda: kpis.report(session, f=f, by=by))


@router.get(
    "/kpis.csv",
    dependencies=[RateLimited(Action.export)],
    responses=problem_responses(422, 429),
    summary="The KPIs as CSV",
    description="One row overall, then one per group; the columns are the KPI codes. " + CSV_RULE,
)
def download_kpis(session: SessionDep, f: KpiFilterDep, by: By = None) -> Response:
    found = kpis.report(session, f=f, by=by)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["group_by", "code", "name_th", "name_en", "suppressed", *kpis.CODES])
    rows = [("", {"code": None, "name_th": None, "name_en": None}, found["overall"])]
    rows += [(found["by"], g[found["by"]], g) for g in found.get("groups", [])]
    for group_by, key, figures in rows:
        cells = [group_by, key["code"], key["name_th"], key["name_en"], figures["suppressed"]]
        writer.writerow([spreadsheet_cell(c) for c in cells + [figures[c] for c in kpis.CODES]])
    return Response(
        out.getvalue().encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kpis.csv"'},
    )


@router.get("/kpis/definitions", summary="What each KPI means")
def kpi_definitions() -> dict[str, Any]:
    """Each KPI's code, name, formula, unit, population and exclusions, and the suppression rule."""
    return {
        "k": kpis.K,
        "suppression": f"Groups with fewer than {kpis.K} issues are suppressed: every figure "
        "null, the count too.",
        "kpis": [asdict(d) for d in kpis.DEFINITIONS],
    }
