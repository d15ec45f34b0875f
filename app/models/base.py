"""Column helpers shared by the models."""

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum
from sqlalchemy.orm import mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def created_at_column():
    """Timezone-aware creation time, set by the app so both databases store the same value."""
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def str_enum(cls: type[enum.Enum]) -> Enum:
    """An enum stored by value in a string column: portable, and new values need no ALTER TYPE."""
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
