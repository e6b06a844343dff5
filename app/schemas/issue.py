"""Issues on the wire: what a reporter sends, what the public and the agencies see."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from app import i18n
from app.models import (
    Agency,
    Answer,
    Category,
    ContactNeed,
    District,
    EventAction,
    Flag,
    Issue,
    IssueEvent,
    IssueStatus,
    Language,
    Priority,
    Resolution,
    Review,
)
from app.schemas.base import RecordId, WriteSchema, refuse_null
from app.schemas.photo import PhotoRead
from app.services.lifecycle import Action, event_message
from app.services.timeframes import Step, TimeframeState

Latitude = Annotated[
    float, Field(strict=True, ge=-90, le=90, allow_inf_nan=False, examples=[13.7563])
]
Longitude = Annotated[
    float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False, examples=[100.5018])
]
Title = Annotated[str, Field(min_length=3, max_length=200, examples=["Street light out on Soi 5"])]
Description = Annotated[str, Field(max_length=5000)]
Address = Annotated[str, Field(min_length=1, max_length=500)]
Note = Annotated[str, Field(min_length=1, max_length=2000)]
Flags = Annotated[
    list[Flag],
    Field(
        max_length=len(Flag),
        description="Who or what the problem affects; flagged issues get a higher priority and "
        "shorter targets (GET /api/v1/priority-rules).",
        examples=[["accessibility"]],
    ),
]
ContactNeeds = Annotated[
    list[ContactNeed],
    Field(
        max_length=len(ContactNeed),
        description="How you need to be contacted: handling staff see it; easy_read also "
        "shortens your messages to what happened and the link.",
        examples=[["easy_read"]],
    ),
]


AttributeAnswer = (
    Annotated[str, Field(max_length=4000)]
    | Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=50)]
)


class IssueCreate(WriteSchema):
    category: str = Field(
        min_length=1, max_length=64, description="A category code.", examples=["streetlight"]
    )
    title: Title
    description: Description = ""
    latitude: Latitude
    longitude: Longitude
    address: Address | None = None
    attributes: dict[Annotated[str, Field(max_length=64)], AttributeAnswer] = Field(
        default_factory=dict,
        max_length=50,
        description="Answers to the category's questions (GET /api/v1/categories lists them), "
        "by attribute code; a list for multivaluelist attributes.",
        examples=[{"light_state": "off"}],
    )
    flags: Flags = Field(default_factory=list)
    language: Language | None = Field(
        default=None, description="Saved as your preferred contact language (as PATCH /users/me)."
    )
    contact_needs: ContactNeeds | None = Field(
        default=None, description="Saved on your profile (as PATCH /users/me)."
    )
    private: bool = Field(
        default=False,
        description="Seen only by you, the agency handling it and admins: absent from every "
        "public list, map, Open311 answer, export, statistic and area alert.",
    )


class IssueUpdate(WriteSchema):
    title: Title | None = None
    description: Description | None = None
    address: Address | None = None
    priority: Priority | None = Field(
        default=None,
        description="Handling staff only; not below what the flags require. Moves the deadlines "
        "(counted from the report) and tells the followers.",
    )
    flags: Flags | None = Field(default=None, description="Handling staff only: the whole set.")

    _required = refuse_null("title", "description", "priority", "flags")


# A reference's names in every language the city gave: chosen from for `name`, not shown.
Names = Annotated[dict[str, str], Field(default_factory=dict, exclude=True)]
NAME_DESCRIPTION = (
    "Its name in the language the reader accepts, of those the city gave; else in the answer's "
    "language (Content-Language)."
)


class NamedRef(BaseModel):
    """Something of the city's that has a name in each of its languages: an agency, a category,
    a district."""

    model_config = ConfigDict(from_attributes=True)

    name_th: str
    name_en: str
    names: Names

    @computed_field(description=NAME_DESCRIPTION)
    def name(self) -> str:
        return i18n.name_in(self.names, i18n.pick(self.name_th, self.name_en))


class AgencyRef(NamedRef):
    id: int
    slug: str

    @classmethod
    def of(cls, agency: Agency | None) -> AgencyRef | None:
        return None if agency is None else cls.model_validate(agency)


class CategoryRef(NamedRef):
    code: str

    @classmethod
    def of(cls, category: Category) -> CategoryRef:
        return cls.model_validate(category)


class DistrictRef(NamedRef):
    code: str

    @classmethod
    def of(cls, district: District | None) -> DistrictRef | None:
        return None if district is None else cls.model_validate(district)


class ReporterRef(BaseModel):
    id: int
    display_name: str
    email: str | None
    language: Language = Field(description="The language to contact them in.")
    contact_needs: list[ContactNeed] = Field(description="How they need to be contacted.")


class PunctualityRead(BaseModel):
    outcome: Literal["early", "late"] = Field(description="early includes exactly on time.")
    by_hours: float = Field(description="How far from the deadline, in hours.")


class TimeframeRead(BaseModel):
    """The issue's service-level time frame, as the reporter and the public see it."""

    state: TimeframeState = Field(
        description="While unresolved, against the current step's deadline: on_track, at_risk "
        "(most of the step's window gone; the share is in the priority rules) or late; met or "
        "missed once resolved."
    )
    next_step: Step | None = Field(description="What it waits for; null once resolved.")
    next_step_due_at: dt.datetime | None = Field(description="When that step is due.")
    acknowledge_due_at: dt.datetime
    acknowledged_at: dt.datetime | None
    expected_datetime: dt.datetime = Field(description="When it should be resolved.")
    resolved_at: dt.datetime | None
    resolution_punctuality: PunctualityRead | None = Field(
        description="Once resolved: how early or late against expected_datetime."
    )

    @computed_field(description="The state for people, in the answer's language.")
    def state_label(self) -> str:
        return i18n.label(self.state)


class IssueProperties(BaseModel):
    """An issue as anyone may see it: no personal data about the reporter."""

    id: str = Field(description="Stable public id.", examples=["K7M3QX9PAB"])
    category: CategoryRef
    title: str
    description: str
    address: str | None
    attributes: dict[str, Any] = Field(description="Answers to the category's questions.")
    status: IssueStatus
    resolution: Resolution | None
    priority: Priority
    agency: AgencyRef | None = Field(description="The agency handling it; null until claimed.")
    district: DistrictRef | None = Field(
        description="The district the point lies in, fixed when reported; null outside every "
        "district. On a border shared by several districts: the one whose code sorts first."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    acknowledged_at: dt.datetime | None
    started_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    reopened_at: dt.datetime | None
    reopen_count: int
    acknowledge_due_at: dt.datetime
    resolve_due_at: dt.datetime
    version: int
    distance_m: float | None = Field(default=None, description="Only when sorted by nearest.")

    @computed_field(description="The status for people, in the answer's language.")
    def status_label(self) -> str:
        return i18n.label(self.status)

    @computed_field(description="The resolution for people, in the answer's language.")
    def resolution_label(self) -> str | None:
        return i18n.label_of(self.resolution)

    @computed_field(description="The priority for people, in the answer's language.")
    def priority_label(self) -> str:
        return i18n.label(self.priority)

    @classmethod
    def fields_of(cls, issue: Issue, distance_m: float | None = None) -> dict[str, Any]:
        return {
            "id": issue.public_id,
            "category": CategoryRef.of(issue.category),
            "title": issue.title,
            "description": issue.description,
            "address": issue.address,
            "attributes": issue.attributes,
            "status": issue.status,
            "resolution": issue.resolution,
            "priority": issue.priority,
            "agency": AgencyRef.of(issue.agency),
            "district": DistrictRef.of(issue.district),
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "acknowledged_at": issue.acknowledged_at,
            "started_at": issue.started_at,
            "resolved_at": issue.resolved_at,
            "closed_at": issue.closed_at,
            "reopened_at": issue.reopened_at,
            "reopen_count": issue.reopen_count,
            "acknowledge_due_at": issue.acknowledge_due_at,
            "resolve_due_at": issue.resolve_due_at,
            "version": issue.version,
            "distance_m": distance_m,
        }


class IssuePublic(IssueProperties):
    latitude: float
    longitude: float

    @classmethod
    def of(cls, issue: Issue, distance_m: float | None = None) -> IssuePublic:
        return cls(
            **cls.fields_of(issue, distance_m),
            latitude=issue.location.lat,
            longitude=issue.location.lon,
        )


class ReporterFeedback(BaseModel):
    resolved_at: dt.datetime = Field(description="The resolution it answers.")
    answer: Answer | None
    rating: int | None = Field(description="1 (not at all satisfied) to 5 (very).")
    comment: str | None
    comment_id: int | None
    answered_at: dt.datetime


class IssueRead(IssuePublic):
    """An issue as its reader may see it: reporter details only for those entitled to them."""

    reporter: ReporterRef | None = Field(
        description="Present for the reporter, the agencies involved and admins."
    )
    allowed_actions: list[Action] = Field(description="What you may do with it now.")
    assignee_id: int | None = Field(
        default=None,
        description="The staff member working on it; shown to the agencies involved and admins.",
    )
    photos: list[PhotoRead] = Field(
        default_factory=list,
        description="Report and resolution photos, oldest first; hidden ones only for staff.",
    )
    hidden: bool = Field(
        default=False,
        description="Hidden from the public by moderation (only its agencies and admins see it).",
    )
    private: bool = Field(
        default=False,
        description="A private report: only its reporter, the handling agency and admins see it.",
    )
    review: Review | None = Field(
        default=None,
        description="Of a category reviewed before publishing: pending (seen only by its "
        "reporter, the agencies involved and admins), approved (public) or rejected.",
    )
    flags: list[Flag] = Field(default_factory=list, description="Who or what it affects.")
    timeframe: TimeframeRead | None = Field(
        default=None, description="Expected dates and whether it is on track (as /timeframe)."
    )
    supporter_count: int = Field(
        default=0, description='Citizens who said they have this problem too ("me too").'
    )
    supported: bool | None = Field(
        default=None, description="Whether you support it; null without credentials."
    )
    duplicate_of: str | None = Field(
        default=None, description="The issue this one was merged into as a duplicate."
    )
    duplicates: list[str] = Field(
        default_factory=list, description="Issues merged into this one as its duplicates."
    )
    triage: bool = Field(
        default=False,
        description="Unclaimed and no agency covering the point handles its category (or it was "
        "reported in the city's general category): it waits in the admins' triage queue "
        "(GET /api/v1/issues/unrouted) to be sent on.",
    )
    notice: str | None = Field(
        default=None, description="What happens next when it waits in triage, for people."
    )
    feedback: list[ReporterFeedback] = Field(
        default_factory=list,
        description="The reporter's answer to each resolution (fixed or not, stars, comment), "
        "oldest first; for the agencies involved and admins. The comment is also a public "
        "comment on the issue (`comment_id`), which they may answer or hide.",
    )


class IssuePage(BaseModel):
    items: list[IssuePublic]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class IssueReadPage(BaseModel):
    items: list[IssueRead]
    next_cursor: str | None


class GeoJSONPoint(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class IssueFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: GeoJSONPoint
    properties: IssueProperties


class IssueFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[IssueFeature]
    next_cursor: str | None


class ClaimRequest(WriteSchema):
    action: Literal[Action.claim]
    note: Note | None = None


class StartRequest(WriteSchema):
    action: Literal[Action.start]
    note: Note | None = None
    is_public: bool = True


class ResolveRequest(WriteSchema):
    action: Literal[Action.resolve]
    resolution: Resolution
    note: Note | None = None
    is_public: bool = True


class CloseRequest(WriteSchema):
    action: Literal[Action.close]
    note: Note | None = None


class ReopenRequest(WriteSchema):
    action: Literal[Action.reopen]
    note: Note = Field(description="Why it is not fixed.")


class TransferRequest(WriteSchema):
    action: Literal[Action.transfer]
    to_agency: RecordId = Field(description="Id of the agency that should handle it.")
    note: Note = Field(description="Why it belongs to that agency.")
    is_public: bool = True


TransitionRequest = Annotated[
    ClaimRequest | StartRequest | ResolveRequest | CloseRequest | ReopenRequest | TransferRequest,
    Field(discriminator="action"),
]


class ActorRef(BaseModel):
    role: str
    agency: AgencyRef | None
    name: str | None = Field(description="Only for staff and admins; the public sees the role.")

    @computed_field(description="The role for people, in the answer's language.")
    def role_label(self) -> str:
        return i18n.catalog(i18n.current()).get(f"label.role.{self.role}", self.role)


class IssueEventRead(BaseModel):
    id: int
    at: dt.datetime
    action: EventAction
    from_status: IssueStatus | None
    to_status: IssueStatus
    resolution: Resolution | None
    from_agency: AgencyRef | None
    to_agency: AgencyRef | None
    note: str | None = Field(description="What a person wrote, as written (not translated).")
    message: str | None = Field(
        default=None,
        description="What the system says of the step (the reporter's answer, an automatic "
        "close, a photo's kind, ...), in the answer's language.",
    )
    is_public: bool
    actor: ActorRef
    photo_id: int | None = Field(default=None, description="The photo a photo_* event is about.")
    imported: bool = Field(
        default=False,
        description="Copied from the system the city used before (`civicloop import`).",
    )

    @computed_field(description="What happened, for people, in the answer's language.")
    def action_label(self) -> str:
        return i18n.label(self.action)

    @computed_field(description="The status it left the issue in, in the answer's language.")
    def to_status_label(self) -> str:
        return i18n.label(self.to_status)

    @classmethod
    def of(cls, event: IssueEvent, *, show_names: bool) -> IssueEventRead:
        actor_name = event.actor.display_name if show_names and event.actor else None
        return cls(
            id=event.id,
            at=event.created_at,
            action=event.action,
            from_status=event.from_status,
            to_status=event.to_status,
            resolution=event.resolution,
            from_agency=AgencyRef.of(event.from_agency),
            to_agency=AgencyRef.of(event.to_agency),
            note=event.note,
            message=event_message(event),
            is_public=event.is_public,
            actor=ActorRef(
                role=event.actor_role, agency=AgencyRef.of(event.actor_agency), name=actor_name
            ),
            photo_id=event.photo_id,
            imported=event.imported,
        )
