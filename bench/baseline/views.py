"""The six GeoReport v2 endpoints as DRF views: plain ORM queries, one transaction per POST."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from typing import Any

from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.db import transaction
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.baseline.models import (
    ApiKey,
    Category,
    District,
    Issue,
    IssueEvent,
    Open311Submission,
)
from bench.baseline.serializers import ServiceRequestSerializer, ServiceSerializer, service_notice

WINDOW = dt.timedelta(days=90)
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
MAX_RADIUS_M = 50_000
METRES_PER_DEGREE = 111_320.0
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The latest public status change with a note: what status_notes shows.
NOTES = Prefetch(
    "events",
    queryset=IssueEvent.objects.filter(is_public=True, note__isnull=False)
    .exclude(from_status=F("to_status"))
    .order_by("id"),
    to_attr="status_notes",
)


class BadRequest(Exception):
    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.code = code


def error(exc: BadRequest) -> Response:
    return Response([{"code": exc.code, "description": str(exc)}], status=exc.code)


def number(params: Any, name: str, low: float, high: float) -> float | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} is not a number") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be within {low:g}..{high:g}")
    return value


def visible() -> QuerySet[Issue]:
    return Issue.objects.filter(hidden_at__isnull=True, is_private=False).filter(
        Q(review__isnull=True) | Q(review="approved")
    )


def presented(issues: QuerySet[Issue]) -> QuerySet[Issue]:
    return issues.select_related("category", "agency", "district").prefetch_related(NOTES)


class ServiceList(APIView):
    def get(self, request: Request) -> Response:
        services = Category.objects.filter(is_active=True).order_by("group", "code")
        return Response(ServiceSerializer(services, many=True).data)


class ServiceRequests(APIView):
    def get(self, request: Request) -> Response:
        try:
            issues = self.filtered(request.query_params)
        except BadRequest as exc:
            return error(exc)
        return Response(ServiceRequestSerializer(issues, many=True).data)

    def filtered(self, params: Any) -> QuerySet[Issue]:
        now = timezone.now()
        issues = visible().filter(
            created_at__gte=now - WINDOW, created_at__lt=now + dt.timedelta(seconds=1)
        )
        if params.get("bbox"):
            try:
                west, south, east, north = (float(v) for v in params["bbox"].split(","))
            except ValueError:
                raise BadRequest("bbox is west,south,east,north") from None
            box = Polygon.from_bbox((west, south, east, north))
            issues = issues.filter(location__within=box)
        lat, lon = number(params, "lat", -90, 90), number(params, "long", -180, 180)
        radius = number(params, "radius", 0, MAX_RADIUS_M)
        if lat is not None and lon is not None and radius is not None:
            centre = Point(lon, lat, srid=4326)
            # ST_DWithin in degrees (the GiST index) around a circle that surely holds the
            # radius, then the exact distance in metres.
            widest = math.radians(min(abs(lat) + radius / METRES_PER_DEGREE, 89.0))
            degrees = radius / (METRES_PER_DEGREE * math.cos(widest)) * 1.001
            issues = issues.filter(
                location__dwithin=(centre, degrees),
                location__distance_lte=(centre, D(m=radius)),
            )
        elif (lat, lon, radius) != (None, None, None):
            raise BadRequest("lat, long and radius go together")
        size = int(number(params, "page_size", 1, MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE)
        page = int(number(params, "page", 1, 1_000_000) or 1)
        ordered = issues.order_by("-created_at", "-id")[(page - 1) * size : page * size]
        return presented(ordered)

    def post(self, request: Request) -> Response:
        try:
            return self.create(request.data)
        except BadRequest as exc:
            return error(exc)

    def create(self, form: Any) -> Response:
        digest = hashlib.sha256((form.get("api_key") or "").encode()).hexdigest()
        key = (
            ApiKey.objects.select_related("user")
            .filter(secret_hash=digest, revoked_at__isnull=True)
            .first()
        )
        if key is None or not key.user.is_active:
            raise BadRequest("api_key is not valid", 403)
        category = Category.objects.filter(
            code=form.get("service_code") or "", is_active=True
        ).first()
        if category is None:
            raise BadRequest("service_code not found", 404)
        lat, lon = number(form, "lat", -90, 90), number(form, "long", -180, 180)
        if lat is None or lon is None:
            raise BadRequest("lat and long are required")
        point = Point(lon, lat, srid=4326)
        district = District.objects.filter(area__covers=point).only("id").first()
        description = form.get("description") or ""
        now = timezone.now()
        with transaction.atomic():
            issue = Issue.objects.create(
                public_id="".join(secrets.choice(ALPHABET) for _ in range(10)),
                category=category,
                reporter_id=key.user_id,
                district=district,
                title=(description.splitlines() or [category.name_en])[0][:200],
                description=description,
                location=point,
                address=form.get("address_string") or None,
                status="open",
                priority="normal",
                acknowledge_due_at=now + dt.timedelta(hours=category.acknowledge_target_hours),
                resolve_due_at=now + dt.timedelta(hours=category.resolve_target_hours),
                created_at=now,
                updated_at=now,
            )
            IssueEvent.objects.create(
                issue=issue,
                created_at=now,
                action="reported",
                actor_id=key.user_id,
                actor_role=key.user.role,
                to_status="open",
                is_public=True,
            )
            Open311Submission.objects.create(
                issue=issue,
                api_key=key,
                token=secrets.token_hex(16),
                email=form.get("email") or None,
                first_name=form.get("first_name") or None,
                last_name=form.get("last_name") or None,
                phone=form.get("phone") or None,
                device_id=form.get("device_id") or None,
                created_at=now,
            )
        notice = service_notice(category)
        return Response(
            [{"service_request_id": issue.public_id, "service_notice": notice, "account_id": None}],
            status=201,
        )


class ServiceRequest(APIView):
    def get(self, request: Request, public_id: str) -> Response:
        issue = presented(visible().filter(public_id=public_id)).first()
        if issue is None:
            return error(BadRequest(f"service_request_id {public_id} not found", 404))
        return Response(ServiceRequestSerializer([issue], many=True).data)
