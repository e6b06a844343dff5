"""Priority rules on the wire: what admins set, what everyone may read."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from app.models import Flag, Priority
from app.schemas.base import WriteSchema
from app.services.priorities import ORDER, Rules

# Above 10 a "low" issue would wait years; 0 would make every deadline the report time.
Factor = Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)]


class PriorityRulesWrite(WriteSchema):
    flag_priority: dict[Flag, Priority] = Field(
        description="The priority each flag raises an issue to at least; a flag left out raises "
        "nothing.",
        examples=[{"accessibility": "high", "safety_hazard": "urgent"}],
    )
    target_factor: dict[Priority, Factor] = Field(
        description="For every priority, the factor its issues' acknowledge and resolve targets "
        "are the category's targets times; higher priorities may not get longer targets.",
        examples=[{"urgent": 0.25, "high": 0.5, "normal": 1, "low": 1.5}],
    )
    at_risk_percent: int = Field(
        ge=1,
        le=99,
        description="An unfinished step is at risk once this share of its window (from the "
        "report to its deadline) has passed.",
        examples=[75],
    )

    @model_validator(mode="after")
    def _complete_and_ordered(self) -> PriorityRulesWrite:
        missing = [p.value for p in ORDER if p not in self.target_factor]
        if missing:
            raise ValueError(
                "target_factor needs a factor for every priority; missing: " + ", ".join(missing)
            )
        factors = [self.target_factor[p] for p in ORDER]
        if any(lower < higher for lower, higher in itertools.pairwise(factors)):
            raise ValueError(
                "target_factor must not grow with the priority (low >= normal >= high >= urgent)"
            )
        return self

    def rules(self) -> Rules:
        return Rules(
            flag_priority=dict(self.flag_priority),
            target_factor=dict(self.target_factor),
            at_risk_percent=self.at_risk_percent,
        )


class PriorityRulesRead(BaseModel):
    flag_priority: dict[Flag, Priority]
    target_factor: dict[Priority, float]
    at_risk_percent: int
    updated_at: dt.datetime | None = Field(description="null while the built-in defaults apply.")

    @classmethod
    def of(cls, rules: Rules) -> PriorityRulesRead:
        return cls.model_validate(rules, from_attributes=True)
