"""Who wants to hear about what: followers of an issue, and watchers of an area."""

from __future__ import annotations

import datetime as dt

from shapely.geometry import MultiPolygon
from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, IdType, utcnow
from app.models.types import LonLat, MultiPolygonType, PointType, UTCDateTime


class Follow(IdMixin, Base):
    """An account or a device following an issue; the reporter follows their own report."""

    __tablename__ = "follow"
    __table_args__ = (UniqueConstraint("issue_id", "user_id", name="uq_follow_issue_id_user_id"),)

    issue_id: Mapped[int] = mapped_column(IdType, ForeignKey("issue.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AreaWatch(IdMixin, Base):
    """New reports inside a polygon, or within a radius of a point, in some categories."""

    __tablename__ = "area_watch"
    __table_args__ = (
        CheckConstraint(
            "(area IS NOT NULL AND center IS NULL AND radius_m IS NULL)"
            " OR (area IS NULL AND center IS NOT NULL AND radius_m > 0)",
            name="polygon_or_circle",
        ),
        # New reports look up the watches whose box holds the point (same SQL on both databases).
        Index("ix_area_watch_box", "min_lon", "max_lon", "min_lat", "max_lat"),
    )

    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    area: Mapped[MultiPolygon | None] = mapped_column(MultiPolygonType())
    center: Mapped[LonLat | None] = mapped_column(PointType())
    radius_m: Mapped[float | None] = mapped_column(Float)
    # Category ids; empty means every category.
    category_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    min_lon: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
