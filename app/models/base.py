"""Column helpers shared by the models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def created_at_column():
    """Timezone-aware creation time, set by the app so both databases store the same value."""
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
