"""Categories and agencies on the wire."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from app import i18n
from app.models import AttributeDatatype, Flag
from app.schemas.base import ReadSchema, WriteSchema, refuse_null

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Hours = Annotated[int, Field(ge=1, le=24 * 365)]


class AttributeValue(WriteSchema):
    key: Annotated[str, Field(min_length=1, max_length=100)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    emergency: bool = Field(
        default=False,
        description="Choosing it makes the report an emergency: it is stopped and the "
        "emergency number is given instead.",
    )


class CategoryAttributeWrite(WriteSchema):
    """One question of the category (an Open311 service-definition attribute)."""

    code: Code
    datatype: AttributeDatatype
    required: bool = False
    variable: bool = Field(default=True, description="false: information only, not a question.")
    order: int = Field(ge=1, le=1000, description="Display order, unique within the category.")
    description: Annotated[str, Field(min_length=1, max_length=2000)]
    datatype_description: str = Field(default="", max_length=500)
    values: list[AttributeValue] = Field(
        default_factory=list, max_length=200, description="The choices of the list datatypes."
    )

    @model_validator(mode="after")
    def _values_only_for_lists(self) -> CategoryAttributeWrite:
        if self.datatype.is_list != bool(self.values):
            raise ValueError("list datatypes need values, and only they take values")
        if len({v.key for v in self.values}) != len(self.values):
            raise ValueError("value keys must be unique")
        return self


class CategoryAttributeRead(ReadSchema):
    code: str
    datatype: AttributeDatatype
    required: bool
    variable: bool
    order: int
    description: str
    datatype_description: str
    values: list[dict[str, str | bool]]


REVIEW = (
    "Its reports wait for staff to approve, edit or reject them (POST "
    "/api/v1/issues/{id}/review) and are seen only by the reporter, the agencies involved and "
    "admins until then."
)


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
    flags: list[Flag] = Field(
        default_factory=list,
        max_length=len(Flag),
        description="Flags every issue of this category carries (they raise its priority).",
    )
    attributes: list[CategoryAttributeWrite] = Field(default_factory=list, max_length=50)
    emergency: bool = Field(
        default=False,
        description="Reports of it are emergencies: stopped on every channel, with the number "
        "to call.",
    )
    review_before_publish: bool = Field(default=False, description=REVIEW)

    @model_validator(mode="after")
    def _resolve_after_acknowledge(self) -> CategoryCreate:
        if self.resolve_target_hours < self.acknowledge_target_hours:
            raise ValueError("resolve_target_hours must be at least acknowledge_target_hours")
        for name in ("code", "order"):
            if len({getattr(a, name) for a in self.attributes}) != len(self.attributes):
                raise ValueError(f"attribute {name}s must be unique within the category")
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
    flags: list[Flag]
    is_active: bool
    names: dict[str, str] = Field(description="Its name in every language the city gave.")
    emergency: bool = Field(
        description="An emergency: reports are stopped and the emergency number given."
    )
    review_before_publish: bool = Field(description=REVIEW)
    attributes: list[CategoryAttributeRead] = Field(
        description="Questions a report of this category answers."
    )

    @computed_field(description="Its name in the answer's language (Content-Language).")
    def name(self) -> str:
        return i18n.pick(self.name_th, self.name_en)

    @computed_field(description="Its description in the answer's language.")
    def description(self) -> str:
        return i18n.pick(self.description_th, self.description_en)


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
    jurisdiction: dict[str, Any] | None = Field(
        default=None,
        description="Admins: a new GeoJSON Polygon or MultiPolygon. Open issues nobody has "
        "claimed are re-routed (an internal `rerouted` event on each); claimed ones stay.",
    )
    is_active: bool | None = Field(
        default=None,
        description="Admins: false stops routing new reports to it (open unclaimed ones are "
        "re-routed); its history stays.",
    )

    _required = refuse_null("name_th", "name_en", "categories", "jurisdiction", "is_active")


class CategoryUpdate(WriteSchema):
    name_th: Name | None = None
    name_en: Name | None = None
    description_th: str | None = Field(default=None, max_length=2000)
    description_en: str | None = Field(default=None, max_length=2000)
    keywords: list[Annotated[str, Field(min_length=1, max_length=60)]] | None = Field(
        default=None, max_length=50
    )
    acknowledge_target_hours: Hours | None = None
    resolve_target_hours: Hours | None = Field(
        default=None, description="New targets apply to reports made from now on."
    )
    flags: list[Flag] | None = Field(default=None, max_length=len(Flag))
    is_active: bool | None = Field(
        default=None,
        description="false: accepts no new reports and leaves the lists; its issues keep it.",
    )
    review_before_publish: bool | None = Field(
        default=None, description=REVIEW + " Applies to reports made from now on."
    )

    _required = refuse_null(
        "name_th",
        "name_en",
        "description_th",
        "description_en",
        "keywords",
        "acknowledge_target_hours",
        "resolve_target_hours",
        "flags",
        "is_active",
        "review_before_publish",
    )


class AgencyRead(BaseModel):
    id: int
    slug: str
    name_th: str
    name_en: str
    email: str | None
    phone: str | None
    categories: list[str]
    is_active: bool
    names: dict[str, str] = Field(description="Its name in every language the city gave.")

    @computed_field(description="Its name in the answer's language (Content-Language).")
    def name(self) -> str:
        return i18n.pick(self.name_th, self.name_en)


DistrictCode = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]


class DistrictProperties(WriteSchema):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    code: DistrictCode | None = Field(default=None, description="Else the feature's id.")
    names: dict[
        Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=16)], Name
    ] = Field(min_length=1, max_length=50, description="Language map; the city's default required.")


class DistrictFeature(WriteSchema):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    type: Literal["Feature"]
    id: DistrictCode | int | None = None
    geometry: dict[str, Any] = Field(description="A GeoJSON Polygon or MultiPolygon (WGS84).")
    properties: DistrictProperties

    def code(self) -> str | None:
        if self.properties.code is not None:
            return self.properties.code
        return None if self.id is None else str(self.id)


class DistrictCollection(WriteSchema):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    type: Literal["FeatureCollection"]
    features: list[DistrictFeature] = Field(min_length=1, max_length=5000)
