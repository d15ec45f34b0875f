from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy import Text as SAText
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, str_enum

if TYPE_CHECKING:
    from app.models.user import User

# Canonical content joins paragraphs with a blank line; annotation offsets count in it.
PARAGRAPH_SEPARATOR = "\n\n"


class ParagraphRole(enum.StrEnum):
    CAPTION = "caption"
    FRONT_MATTER = "front_matter"
    BODY = "body"
    CITATION = "citation"

    @property
    def is_front_matter(self) -> bool:
        return self in (ParagraphRole.CAPTION, ParagraphRole.FRONT_MATTER)


class Text(db.Model):
    """A work in the library; its words live in revisions, the newest of which is shown."""

    __tablename__ = "text"
    __table_args__ = (Index("ix_text_added_by_created", "added_by_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    author: Mapped[str] = mapped_column(String(200), default="")
    citation: Mapped[str] = mapped_column(SAText, default="")
    source_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = created_at_column()
    # Who added it on the page (services/texts/adding.py), and so may edit its title, author and
    # citation; None for texts from the command line, which only administrators edit.
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    current_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("text_revision.id", use_alter=True, ondelete="SET NULL")
    )

    current_revision: Mapped[TextRevision | None] = relationship(
        foreign_keys=[current_revision_id], post_update=True
    )
    revisions: Mapped[list[TextRevision]] = relationship(
        back_populates="text",
        foreign_keys="TextRevision.text_id",
        order_by="TextRevision.number",
        cascade="all, delete-orphan",
    )


class TextRevision(db.Model):
    """One immutable version of a text's paragraphs; a re-import with changes adds a revision."""

    __tablename__ = "text_revision"
    __table_args__ = (UniqueConstraint("text_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text_id: Mapped[int] = mapped_column(ForeignKey("text.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    # SHA-256 of title, author, citation and paragraphs with roles: makes re-import idempotent.
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    # Who made it and why: an accepted suggestion's decider and "Accepted suggestion by …";
    # NULL and "" for an import.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(SAText, default="", server_default="")

    text: Mapped[Text] = relationship(back_populates="revisions", foreign_keys=[text_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    paragraphs: Mapped[list[Paragraph]] = relationship(
        back_populates="revision", order_by="Paragraph.number", cascade="all, delete-orphan"
    )

    @property
    def content(self) -> str:
        return PARAGRAPH_SEPARATOR.join(p.body for p in self.paragraphs)

    def spans(self) -> list[ParagraphSpan]:
        return spans_of(self.paragraphs)


@dataclass(frozen=True)
class ParagraphSpan:
    paragraph: Paragraph
    start: int
    end: int


def spans_of(paragraphs: Iterable[Paragraph]) -> list[ParagraphSpan]:
    """Each paragraph, in order, with its [start, end) offsets in the revision's content."""
    spans, start = [], 0
    for paragraph in paragraphs:
        end = start + len(paragraph.body)
        spans.append(ParagraphSpan(paragraph, start, end))
        start = end + len(PARAGRAPH_SEPARATOR)
    return spans


def paragraph_index(spans: Sequence[ParagraphSpan], offset: int) -> int:
    """Where in ``spans`` the paragraph an offset falls in is; an offset in the separator after
    a paragraph counts as that paragraph's (stored spans never start there, see below)."""
    return max(0, bisect.bisect_right(spans, offset, key=lambda span: span.start) - 1)


def paragraph_at(spans: Sequence[ParagraphSpan], offset: int) -> ParagraphSpan:
    return spans[paragraph_index(spans, offset)]


def snap_to_paragraphs(
    spans: Sequence[ParagraphSpan], start: int, end: int
) -> tuple[int, int] | None:
    """The span [start, end) with its ends moved off the blank lines between paragraphs, so
    that it begins and ends on words; None when it holds nothing else."""
    index = paragraph_index(spans, start)
    if start >= spans[index].end:  # in the separator: from the next paragraph's first word
        if index + 1 == len(spans):
            return None
        start = spans[index + 1].start
    last = paragraph_at(spans, end - 1)
    end = min(end, last.end)
    return (start, end) if start < end else None


class Paragraph(db.Model):
    __tablename__ = "paragraph"
    __table_args__ = (UniqueConstraint("revision_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("text_revision.id", ondelete="CASCADE"), index=True
    )
    # 1-based position in the text; the reader sees it as ¶N and links to it as #pN.
    number: Mapped[int] = mapped_column(Integer)
    role: Mapped[ParagraphRole] = mapped_column(str_enum(ParagraphRole))
    body: Mapped[str] = mapped_column(SAText)

    revision: Mapped[TextRevision] = relationship(back_populates="paragraphs")
