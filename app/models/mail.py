"""Mail: each reader's choice of email for their notices, and the outbox a command drains."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, created_at_column, str_enum


class MailMode(enum.StrEnum):
    OFF = "off"
    IMMEDIATE = "immediate"
    DAILY = "daily"  # one digest a day of what came since the last


class MailPreference(db.Model):
    """How a reader wants to hear of each kind of notice by email; no row: the defaults
    (``services.mail.preferences.DEFAULT``)."""

    __tablename__ = "mail_preference"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    reply: Mapped[MailMode] = mapped_column(str_enum(MailMode))
    mention: Mapped[MailMode] = mapped_column(str_enum(MailMode))
    flag: Mapped[MailMode] = mapped_column(str_enum(MailMode))


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"  # to send at next_attempt_at
    HELD = "held"  # a notice waiting for its reader's daily digest
    DIGESTED = "digested"  # gone into the digest ``digest_id``
    SENDING = "sending"  # claimed by a drain: sent, or about to be
    SENT = "sent"
    DROPPED = "dropped"  # nothing left to tell: the words are gone from the reader, mail off
    FAILED = "failed"  # given up: ``error`` says why


class MailOutbox(db.Model):
    """A message to send: one per notice (its ``key`` "notice-<id>") or per reader's digest of a
    day ("digest-<user>-<YYYY-MM-DD>"). Written in the transaction of the notice it tells of;
    its words are composed only when it is sent, for what its reader may read then."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification.id", ondelete="CASCADE"), index=True
    )
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_outbox.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
