"""DRF serializers for GeoReport v2's service list and service requests (JSON)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from bench.baseline.models import Category, Issue

CLOSED = ("resolved", "closed")


def w3c(moment: dt.datetime | None) -> str | None:
    return None if moment is None else timezone.localtime(moment).isoformat(timespec="seconds")


def service_notice(category: Category) -> str:
    return (
        f"Acknowledged within {category.acknowledge_target_hours} hours and resolved within "
        f"{category.resolve_target_hours} hours of the report (service-level targets)."
    )


class ServiceSerializer(serializers.ModelSerializer):
    service_code = serializers.CharField(source="code")
    service_name = serializers.CharField(source="name_en")
    description = serializers.CharField(source="description_en")
    metadata = serializers.SerializerMethodField()
    type = serializers.SerializerMethodField()
    keywords = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = (
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        )

    def get_metadata(self, category: Category) -> bool:
        return False

    def get_type(self, category: Category) -> str:
        return "realtime"

    def get_keywords(self, category: Category) -> str:
        return ", ".join(category.keywords)


class ServiceRequestSerializer(serializers.ModelSerializer):
    service_request_id = serializers.CharField(source="public_id")
    status = serializers.SerializerMethodField()
    status_notes = serializers.SerializerMethodField()
    service_name = serializers.CharField(source="category.name_en")
    service_code = serializers.CharField(source="category.code")
    agency_responsible = serializers.SerializerMethodField()
    service_notice = serializers.SerializerMethodField()
    requested_datetime = serializers.SerializerMethodField()
    updated_datetime = serializers.SerializerMethodField()
    expected_datetime = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    address_id = serializers.SerializerMethodField()
    zipcode = serializers.SerializerMethodField()
    lat = serializers.SerializerMethodField()
    long = serializers.SerializerMethodField()
    media_url = serializers.SerializerMethodField()

    class Meta:
        model = Issue
        fields = (
            "service_request_id", "status", "status_notes", "service_name", "service_code",
            "description", "agency_responsible", "service_notice", "requested_datetime",
            "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
            "long", "media_url",
        )  # fmt: skip

    def get_status(self, issue: Issue) -> str:
        return "closed" if issue.status in CLOSED else "open"

    def get_status_notes(self, issue: Issue) -> str | None:
        # The prefetched public status changes with a note, oldest first (views.NOTES).
        notes: list[Any] = issue.status_notes
        return notes[-1].note if notes else None

    def get_agency_responsible(self, issue: Issue) -> str | None:
        return issue.agency.name_en if issue.agency else None

    def get_service_notice(self, issue: Issue) -> str:
        return service_notice(issue.category)

    def get_requested_datetime(self, issue: Issue) -> str | None:
        return w3c(issue.created_at)

    def get_updated_datetime(self, issue: Issue) -> str | None:
        return w3c(issue.updated_at)

    def get_expected_datetime(self, issue: Issue) -> str | None:
        return w3c(issue.resolve_due_at)

    def get_address(self, issue: Issue) -> str:
        if issue.address:
            return issue.address
        point = f"{issue.location.y:.5f}, {issue.location.x:.5f}"
        return f"{issue.district.name_en} ({point})" if issue.district else point

    def get_address_id(self, issue: Issue) -> None:
        return None

    def get_zipcode(self, issue: Issue) -> None:
        return None

    def get_lat(self, issue: Issue) -> float:
        return float(issue.location.y)

    def get_long(self, issue: Issue) -> float:
        return float(issue.location.x)

    def get_media_url(self, issue: Issue) -> None:
        return None
