"""The city file's shape. Names are language maps (`{en: ..., es: ...}`); only the city's
default language is required (checked in `app.city.parse`, which knows the city)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from app.models import Flag
from app.schemas.base import WriteSchema
from app.schemas.catalog import CategoryAttributeWrite, Code, Hours, Name
from app.schemas.emergency import EmergencyNumber

LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=16)]
LanguageMap = Annotated[dict[LanguageCode, Name], Field(min_length=1, max_length=50)]
Path = Annotated[str, Field(min_length=1, max_length=1000)]
Property = Annotated[str, Field(min_length=1, max_length=200)]


class Targets(WriteSchema):
    acknowledge_hours: Hours
    resolve_hours: Hours

    @model_validator(mode="after")
    def _resolve_after_acknowledge(self) -> Targets:
        if self.resolve_hours < self.acknowledge_hours:
            raise ValueError("resolve_hours must be at least acknowledge_hours")
        return self


GENERAL_TARGETS = Targets(acknowledge_hours=48, resolve_hours=480)


class GeneralCategory(WriteSchema):
    """The category for reports that fit no other; its reports wait in the triage queue."""

    code: Code = "general"
    name: LanguageMap | None = None  # default: "Other problem" (English and Thai)
    targets: Targets = GENERAL_TARGETS


class CitySection(WriteSchema):
    name: LanguageMap
    default_language: LanguageCode
    languages: list[LanguageCode] = Field(default_factory=list, max_length=50)
    time_zone: Annotated[str, Field(min_length=1, max_length=64)]
    general_category: GeneralCategory = Field(default_factory=GeneralCategory)
    # Whom to call in an emergency where a district has none of its own.
    emergency_number: EmergencyNumber | None = None


class DistrictsSection(WriteSchema):
    """Any RFC 7946 FeatureCollection of (Multi)Polygons; features sharing an id are one
    district (a district made of islands)."""

    file: Path
    id_property: Property
    name_property: Property | dict[LanguageCode, Property]
    # District id → its own emergency number, where it is not the city's.
    emergency_numbers: dict[Annotated[str, Field(max_length=64)], EmergencyNumber] = Field(
        default_factory=dict, max_length=5000
    )


class FileRef(WriteSchema):
    file: Path


class AgencySpec(WriteSchema):
    slug: Code
    name: LanguageMap
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    jurisdiction: Literal["city"] | list[Annotated[str, Field(max_length=64)]] | FileRef = Field(
        description="`city`, a list of district ids, or a GeoJSON file."
    )
    categories: list[Code] = Field(default_factory=list, max_length=500)
    active: bool = True


class CategorySpec(WriteSchema):
    code: Code
    name: LanguageMap
    group: LanguageMap | Code
    description: dict[LanguageCode, Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict
    )
    keywords: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=50
    )
    flags: list[Flag] = Field(default_factory=list, max_length=len(Flag))
    targets: Targets
    attributes: list[CategoryAttributeWrite] = Field(default_factory=list, max_length=50)
    active: bool = True
    # Reports wait for staff to approve them before they are public (moderation).
    review_before_publish: bool = False


class CityFile(WriteSchema):
    city: CitySection
    districts: DistrictsSection | None = None
    agencies: list[AgencySpec] = Field(default_factory=list, max_length=5000)
    categories: list[CategorySpec] = Field(default_factory=list, max_length=5000)
