"""Categories of problems (Open311 "services") with their service-level targets and the extra
questions (Open311 service-definition attributes) a report of that kind answers."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, IdType, TimestampMixin


class AttributeDatatype(StrEnum):
    """GeoReport v2 attribute datatypes."""

    string = "string"
    number = "number"
    datetime = "datetime"
    text = "text"
    singlevaluelist = "singlevaluelist"
    multivaluelist = "multivaluelist"

    @property
    def is_list(self) -> bool:
        return self in (AttributeDatatype.singlevaluelist, AttributeDatatype.multivaluelist)


class Category(IdMixin, TimestampMixin, Base):
    __tablename__ = "category"
    __table_args__ = (
        CheckConstraint("acknowledge_target_hours > 0", name="acknowledge_target_positive"),
        CheckConstraint(
            "resolve_target_hours >= acknowledge_target_hours", name="resolve_after_acknowledge"
        ),
    )

    code: Mapped[str] = mapped_column(String(64), unique=True)
    group: Mapped[str] = mapped_column(String(64), index=True)
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Every language the city gave for the name and the group (name_th / name_en fall back to
    # the city's default language).
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    group_names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    description_th: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Flag values (app.models.issue.Flag) every issue of this category carries, e.g. a broken
    # ramp is always `accessibility`.
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    acknowledge_target_hours: Mapped[int] = mapped_column(Integer)
    resolve_target_hours: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # An emergency, not a report: every channel stops it and gives the number to call.
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    # Its reports wait for staff to approve them before anyone else sees them (moderation).
    review_before_publish: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    attributes: Mapped[list[CategoryAttribute]] = relationship(
        lazy="raise",
        order_by="CategoryAttribute.order",
        cascade="all, delete-orphan",
        back_populates="category",
    )


class CategoryAttribute(IdMixin, Base):
    """One question of a category's Open311 service definition."""

    __tablename__ = "category_attribute"
    __table_args__ = (
        UniqueConstraint("category_id", "code", name="uq_category_attribute_category_id_code"),
        UniqueConstraint(
            "category_id", "display_order", name="uq_category_attribute_category_id_display_order"
        ),
        CheckConstraint("display_order > 0", name="display_order_positive"),
    )

    category_id: Mapped[int] = mapped_column(IdType, ForeignKey("category.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    # False: informational only, shown with the description; nothing to answer.
    variable: Mapped[bool] = mapped_column(Boolean, default=True)
    datatype: Mapped[AttributeDatatype] = mapped_column(
        Enum(
            AttributeDatatype,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="attribute_datatype",
        )
    )
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    datatype_description: Mapped[str] = mapped_column(String(500), default="")
    # "order" in Open311; a reserved word in SQL, hence the column name.
    order: Mapped[int] = mapped_column("display_order", Integer)
    description: Mapped[str] = mapped_column(Text)
    # [{"key": ..., "name": ..., "emergency": bool}] for the list datatypes, [] otherwise.
    values: Mapped[list[dict[str, str | bool]]] = mapped_column(JSON, default=list)

    category: Mapped[Category] = relationship(lazy="raise", back_populates="attributes")
