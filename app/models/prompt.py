from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Text as SAText
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.annotation import Annotation
from app.models.base import UTCDateTime, created_at_column, utcnow
from app.models.user import User


class ParagraphPrompt(db.Model):
    """A question an instructor pins to a group's discussion of one paragraph ("Discuss ¶4"):
    it heads that thread for every member, whose replies in it are the answers.

    Kept beside the thread rather than as its words: the thread is the group's, started by
    whoever wrote first, and its words would be that member's in every export and search. The
    prompt has the thread's audience and follows it (a text revised moves the thread with its
    paragraph's words); unpinned, the row goes and the thread with its answers stays.
    """

    __tablename__ = "paragraph_prompt"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("annotation.id", ondelete="CASCADE"), unique=True
    )
    body_source: Mapped[str] = mapped_column(SAText)
    body_html: Mapped[str] = mapped_column(SAText)
    # Who wrote the question as it reads now (the last instructor to pin or edit it).
    pinned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # When it was first pinned: replies from then on answer it (an edit does not move it).
    pinned_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    thread: Mapped[Annotation] = relationship()
    pinned_by: Mapped[User | None] = relationship()
