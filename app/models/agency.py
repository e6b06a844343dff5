"""Agencies: who handles which categories where."""

from __future__ import annotations

from shapely.geometry import MultiPolygon
from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, IdType, TimestampMixin
from app.models.category import Category
from app.models.types import MultiPolygonType

agency_category = Table(
    "agency_category",
    Base.metadata,
    Column("agency_id", IdType, ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", IdType, ForeignKey("category.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_agency_category_category_id", "category_id"),
)


class Agency(IdMixin, TimestampMixin, Base):
    __tablename__ = "agency"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    jurisdiction: Mapped[MultiPolygon] = mapped_column(MultiPolygonType())
    # A deactivated agency receives no new reports; what it handled stays in its history.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    categories: Mapped[list[Category]] = relationship(secondary=agency_category, lazy="raise")


# Routing asks "which jurisdictions cover this point": GiST on PostGIS; SQLite tests in Shapely.
Index("ix_agency_jurisdiction", Agency.jurisdiction, postgresql_using="gist").ddl_if(
    dialect="postgresql"
)
