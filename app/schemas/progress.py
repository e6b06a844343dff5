"""The progress view on the wire."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from app.schemas.issue import PunctualityRead, TimeframeRead
from app.services.progress import StepCode, StepState


class StepRead(BaseModel):
    step: StepCode
    label: str = Field(description="In the request's language.")
    state: StepState
    at: dt.datetime | None = Field(description="When it happened (in the current cycle).")
    due_at: dt.datetime | None = Field(description="Its deadline, for the steps that have one.")
    punctuality: PunctualityRead | None = Field(description="Done steps with a deadline.")


class ReopenCycleRead(BaseModel):
    number: int
    resolved_at: dt.datetime | None = Field(description="The resolution that was disputed.")
    reopened_at: dt.datetime
    note: str | None = Field(description="Why, when the note is public.")


class ProgressRead(BaseModel):
    id: str
    current_step: StepCode = Field(description="The step the issue is in now.")
    steps: list[StepRead] = Field(
        description="reported, acknowledged, in_progress, resolved, closed."
    )
    reopen_count: int
    reopen_cycles: list[ReopenCycleRead] = Field(description="Each reopening, oldest first.")
    timeframe: TimeframeRead
