"""Unmanaged GeoDjango models over civicloop's own tables (the bench's PostGIS city): only the
columns a GeoReport server reads or writes; Django never creates or migrates these tables."""

from __future__ import annotations

from typing import Any

from django.contrib.gis.db import models


class JSONColumn(models.JSONField):
    """civicloop's `json` columns: psycopg 3 already decodes them (Django expects text, which it
    gets only for `jsonb`)."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return (
            value
            if not isinstance(value, str)
            else super().from_db_value(value, expression, connection)
        )


class Category(models.Model):
    code = models.CharField(max_length=64, unique=True)
    group = models.CharField(max_length=64)
    name_en = models.CharField(max_length=200)
    description_en = models.TextField()
    keywords = JSONColumn()
    acknowledge_target_hours = models.IntegerField()
    resolve_target_hours = models.IntegerField()
    is_active = models.BooleanField()

    class Meta:
        managed = False
        db_table = "category"


class Agency(models.Model):
    slug = models.CharField(max_length=64, unique=True)
    name_en = models.CharField(max_length=200)

    class Meta:
        managed = False
        db_table = "agency"


class District(models.Model):
    code = models.CharField(max_length=64, unique=True)
    name_en = models.CharField(max_length=200)
    area = models.MultiPolygonField(srid=4326)

    class Meta:
        managed = False
        db_table = "district"


class UserAccount(models.Model):
    role = models.CharField(max_length=16)
    is_active = models.BooleanField()

    class Meta:
        managed = False
        db_table = "user_account"


class ApiKey(models.Model):
    user = models.ForeignKey(UserAccount, models.DO_NOTHING)
    secret_hash = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "api_key"


class Issue(models.Model):
    public_id = models.CharField(max_length=16, unique=True)
    category = models.ForeignKey(Category, models.DO_NOTHING)
    reporter = models.ForeignKey(UserAccount, models.DO_NOTHING)
    agency = models.ForeignKey(Agency, models.DO_NOTHING, null=True)
    district = models.ForeignKey(District, models.DO_NOTHING, null=True)
    title = models.CharField(max_length=200)
    description = models.TextField()
    location = models.PointField(srid=4326)
    address = models.CharField(max_length=500, null=True)
    status = models.CharField(max_length=16)
    priority = models.CharField(max_length=16)
    reopen_count = models.IntegerField(default=0)
    acknowledge_due_at = models.DateTimeField()
    resolve_due_at = models.DateTimeField()
    version = models.IntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    attributes = JSONColumn(default=dict)
    hidden_at = models.DateTimeField(null=True)
    is_private = models.BooleanField(default=False)
    review = models.CharField(max_length=16, null=True)

    class Meta:
        managed = False
        db_table = "issue"


class IssueEvent(models.Model):
    issue = models.ForeignKey(Issue, models.DO_NOTHING, related_name="events")
    created_at = models.DateTimeField()
    action = models.CharField(max_length=16)
    actor = models.ForeignKey(UserAccount, models.DO_NOTHING, null=True)
    actor_role = models.CharField(max_length=16)
    from_status = models.CharField(max_length=16, null=True)
    to_status = models.CharField(max_length=16)
    note = models.TextField(null=True)
    is_public = models.BooleanField()
    imported = models.BooleanField(default=False)

    class Meta:
        managed = False
        db_table = "issue_event"


class Open311Submission(models.Model):
    issue = models.OneToOneField(Issue, models.DO_NOTHING, primary_key=True)
    api_key = models.ForeignKey(ApiKey, models.DO_NOTHING)
    token = models.CharField(max_length=32, unique=True)
    email = models.CharField(max_length=320, null=True)
    first_name = models.CharField(max_length=120, null=True)
    last_name = models.CharField(max_length=120, null=True)
    phone = models.CharField(max_length=40, null=True)
    device_id = models.CharField(max_length=128, null=True)
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "open311_submission"
