"""Reading the library: which texts there are and what a reading page shows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.models import Paragraph, Text, TextRevision
from app.models.text import ParagraphSpan


@dataclass(frozen=True)
class LibraryEntry:
    text: Text
    paragraph_count: int


@dataclass(frozen=True)
class ReadingView:
    text: Text
    revision: TextRevision
    spans: list[ParagraphSpan]

    @property
    def front_matter(self) -> list[ParagraphSpan]:
        return [s for s in self.spans if s.paragraph.role.is_front_matter]

    @property
    def body(self) -> list[ParagraphSpan]:
        return [s for s in self.spans if s.paragraph.role == "body"]

    @property
    def citations(self) -> list[ParagraphSpan]:
        return [s for s in self.spans if s.paragraph.role == "citation"]


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


def reading_view(session: Session, slug: str) -> ReadingView | None:
    text = session.scalar(
        select(Text)
        .where(Text.slug == slug)
        .options(joinedload(Text.current_revision).selectinload(TextRevision.paragraphs))
    )
    if text is None or text.current_revision is None:
        return None
    revision = text.current_revision
    return ReadingView(text, revision, revision.spans())
