"""Which texts there are."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Paragraph,
    Text,
    TextRevision,
)


@dataclass(frozen=True)
class LibraryEntry:
    text: Text
    paragraph_count: int


def library(session: Session) -> list[LibraryEntry]:
    """Every text with its paragraph count, in one query."""
    rows = session.execute(
        select(Text, func.count(Paragraph.id))
        .join(TextRevision, Text.current_revision_id == TextRevision.id)
        .join(Paragraph, Paragraph.revision_id == TextRevision.id)
        .group_by(Text.id)
        .order_by(func.lower(Text.title))
    ).all()
    return [LibraryEntry(text, count) for text, count in rows]
