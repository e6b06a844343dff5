"""The worker's housekeeping between deliveries: what falls due with time, not with a request."""

from __future__ import annotations

from app.config import Settings
from app.db import Database
from app.services import privacy
from app.services.notifications.feedback import auto_close_all
from app.storage import store_for


def run(database: Database, settings: Settings) -> None:
    """Close undisputed resolved issues that are due, then apply the retention policy (closing
    first: an issue closed now starts its retention period now)."""
    auto_close_all(database, settings)
    privacy.run_retention(database, store_for(settings), days=settings.retention_days)
