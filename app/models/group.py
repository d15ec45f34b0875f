from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy import Text as SAText
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, str_enum
from app.models.text import Text
from app.models.user import User


class Role(enum.StrEnum):
    OWNER = "owner"
    INSTRUCTOR = "instructor"
    MEMBER = "member"

    @property
    def teaches(self) -> bool:
        """Owners and instructors run the seminar: they moderate and keep the reading list."""
        return self in (Role.OWNER, Role.INSTRUCTOR)


class Group(db.Model):
    """A seminar: readers who share notes on the texts of its reading list."""

    __tablename__ = "reading_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(SAText, default="")
    # The secret in the invite link; NULL while the link is switched off.
    invite_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[ReadingAssignment]] = relationship(
        back_populates="group",
        cascade="all, delete-orphan",
        order_by="ReadingAssignment.position",
    )


class Membership(db.Model):
    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        Index("ix_membership_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("reading_group.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.MEMBER)
    joined_at: Mapped[datetime] = created_at_column()

    group: Mapped[Group] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()


class Removal(db.Model):
    """Someone the group's instructors removed: the invite link does not let them back in until
    an instructor does (groups.readmit), or a removal would last until they next clicked it."""

    __tablename__ = "group_removal"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("reading_group.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ReadingAssignment(db.Model):
    """A text on a group's reading list, with an optional due date and a prompt for members."""

    __tablename__ = "reading_assignment"
    __table_args__ = (UniqueConstraint("group_id", "text_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("reading_group.id", ondelete="CASCADE"))
    text_id: Mapped[int] = mapped_column(ForeignKey("text.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    due_on: Mapped[date | None] = mapped_column(Date)
    prompt: Mapped[str] = mapped_column(SAText, default="")
    created_at: Mapped[datetime] = created_at_column()

    group: Mapped[Group] = relationship(back_populates="assignments")
    text: Mapped[Text] = relationship()
