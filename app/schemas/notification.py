"""Notifications on the wire: following, watches, subscriptions, logs and the reporter's answer."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FollowState(BaseModel):
    issue: str = Field(description="The issue's public id.")
    following: bool
