from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.annotation import Annotation, Flag, Visibility
from app.models.base import UTCDateTime, created_at_column, str_enum


class NotificationKind(enum.StrEnum):
    REPLY = "reply"
    MENTION = "mention"
    FLAG = "flag"  # to a moderator of the note's audience: a reader flagged it


class Notification(db.Model):
    """An inbox entry: someone replied to me or mentioned me, or (to a moderator) flagged a note."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    # The flag a FLAG notice is about (who flagged, and why); None for the other kinds.
    flag_id: Mapped[int | None] = mapped_column(
        ForeignKey("flag.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    annotation: Mapped[Annotation] = relationship()
    flag: Mapped[Flag | None] = relationship()


class EventKind(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    RESTORED = "restored"
    HIDDEN = "hidden"
    UNHIDDEN = "unhidden"
    REACTED = "reacted"
    VISIBILITY = "visibility"
    PROMPT = "prompt"  # a question pinned to the thread, edited or unpinned


class Event(db.Model):
    """The change log live pages follow: written in the same transaction as the change.

    Its id only grows, so a client that remembers the last id it saw can ask any app server
    for what came after, and a dropped connection loses nothing.
    """

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_text_id", "text_id", "id"),
        Index("ix_event_actor_created", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    text_id: Mapped[int] = mapped_column(ForeignKey("text.id", ondelete="CASCADE"))
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    # Who could see the annotation when this happened; the feed filters on this snapshot, so a
    # note that became private still reaches those who must drop it, and nobody else.
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    visibility: Mapped[Visibility] = mapped_column(str_enum(Visibility))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("reading_group.id", ondelete="CASCADE"))
    # Who made the change (the author, a replier, a moderator): an account's writes are counted
    # by it against its quota (services/quotas.py). NULL on events from before it was kept.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()

    def audience(self) -> Annotation:
        """A stand-in annotation with the audience of this moment, for the access policy."""
        return Annotation(
            user_id=self.author_id, visibility=self.visibility, group_id=self.group_id
        )


class PartChange(db.Model):
    """Which part of a reading page an event changed, for which audience: the version of a
    part rendered once for everyone in an audience is the last event that changed it there.

    ``part`` is a paragraph's number, or 0 for the notes on the whole text and those whose
    words are gone. ``audience`` is "public", "group-<id>", or "user-<id>" for what only that
    reader sees differently (their private notes, their own hidden ones).
    Rows are only ever inserted: concurrent writers never wait on one another's row.
    """

    __tablename__ = "part_change"
    __table_args__ = (Index("ix_part_change_version", "text_id", "audience", "part", "event_id"),)

    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(db.Integer, "sqlite"),
        ForeignKey("event.id", ondelete="CASCADE"),
        primary_key=True,
    )
    audience: Mapped[str] = mapped_column(String(40), primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    text_id: Mapped[int] = mapped_column(ForeignKey("text.id", ondelete="CASCADE"))
