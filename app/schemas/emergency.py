"""Emergency numbers: the city's, and the districts' own where they differ."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.schemas.base import WriteSchema
from app.schemas.catalog import DistrictCode

# What a resident dials: digits, an optional leading +, spaces or hyphens between groups.
EmergencyNumber = Annotated[
    str, Field(min_length=1, max_length=32, pattern=r"^\+?[0-9]+([ -][0-9]+)*$", examples=["1669"])
]


class EmergencyNumbersRead(BaseModel):
    city: str | None = Field(
        description="The number for districts without their own (the city file's, else the "
        "deployment's); null when none is known."
    )
    districts: dict[str, str] = Field(description="District code → its own number.")


class EmergencyNumbersUpdate(WriteSchema):
    """Only what is given changes; null removes a number (a district then uses the city's)."""

    city: EmergencyNumber | None = None
    districts: dict[DistrictCode, EmergencyNumber | None] = Field(
        default_factory=dict, max_length=5000
    )
