"""Column helpers shared by the models."""

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, TypeDecorator
from sqlalchemy.orm import mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A moment in UTC, aware of its zone whichever database gave it back: SQLite keeps no zone,
    so what it returns is read as the UTC it was stored in. An object just written and one just
    loaded then hold equal values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def created_at_column():
    """Timezone-aware creation time, set by the app so both databases store the same value."""
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def str_enum(cls: type[enum.Enum]) -> Enum:
    """An enum stored by value in a string column: portable, and new values need no ALTER TYPE."""
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
