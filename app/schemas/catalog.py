"""Categories and agencies on the wire."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from app.schemas.base import ReadSchema, WriteSchema, refuse_null

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Hours = Annotated[int, Field(ge=1, le=24 * 365)]


class CategoryCreate(WriteSchema):
    code: Code
    group: Code
    name_th: Name
    name_en: Name
    description_th: str = Field(default="", max_length=2000)
    description_en: str = Field(default="", max_length=2000)
    keywords: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=50
    )
    acknowledge_target_hours: Hours
    resolve_target_hours: Hours

    @model_validator(mode="after")
    def _resolve_after_acknowledge(self) -> CategoryCreate:
        if self.resolve_target_hours < self.acknowledge_target_hours:
            raise ValueError("resolve_target_hours must be at least acknowledge_target_hours")
        return self


class CategoryRead(ReadSchema):
    code: str
    group: str
    name_th: str
    name_en: str
    description_th: str
    description_en: str
    keywords: list[str]
    acknowledge_target_hours: int
    resolve_target_hours: int
    is_active: bool


class AgencyCreate(WriteSchema):
    slug: Code
    name_th: Name
    name_en: Name
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    categories: list[Code] = Field(
        description="Codes of the categories it handles.", max_length=500
    )
    jurisdiction: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon (WGS84).")


class AgencyUpdate(WriteSchema):
    name_th: Name | None = None
    name_en: Name | None = None
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    categories: list[Code] | None = Field(default=None, max_length=500)

    _required = refuse_null("name_th", "name_en", "categories")


class AgencyRead(BaseModel):
    id: int
    slug: str
    name_th: str
    name_en: str
    email: str | None
    phone: str | None
    categories: list[str]
