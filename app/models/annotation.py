from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy import Text as SAText
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, created_at_column, str_enum, utcnow
from app.models.text import Text, TextRevision
from app.models.user import User


class Motivation(enum.StrEnum):
    HIGHLIGHTING = "highlighting"
    COMMENTING = "commenting"
    QUESTIONING = "questioning"
    REPLYING = "replying"
    # A suggested correction of the words it is on (W3C's own motivation): see Suggestion.
    EDITING = "editing"


class Kind(enum.StrEnum):
    """What a reader calls an annotation (and filters by): its motivation says question, its
    words say note or highlight, whatever motivation a client sent with them."""

    HIGHLIGHT = "highlight"
    NOTE = "note"
    QUESTION = "question"


class Visibility(enum.StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    PUBLIC = "public"


# How forms, lenses, URLs and the editor name a group's audience: "group-<id>".
GROUP_KEY_PREFIX = "group-"


def group_key(group_id: int) -> str:
    return f"{GROUP_KEY_PREFIX}{group_id}"


def group_in_key(key: str | None) -> int | None:
    """The group a "group-<id>" key names; None for any other string."""
    if not key or not key.startswith(GROUP_KEY_PREFIX):
        return None
    digits = key[len(GROUP_KEY_PREFIX) :]
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 20 else None


class ReactionKind(enum.StrEnum):
    AGREE = "agree"
    QUESTION = "question"


class HighlightColor(enum.StrEnum):
    """Each colour has a name, so colour is never the only cue."""

    YELLOW = "yellow"
    GREEN = "green"
    BLUE = "blue"
    PINK = "pink"
    PURPLE = "purple"


MAX_IRI_CHARS = 1000


class Annotation(db.Model):
    """A highlight or note by one reader on a span of a text, a paragraph, or the whole text.

    The W3C selectors are kept as given (quote with context, and position in the revision it is
    anchored to), so that the annotation can move onto a revised text. ``start`` is NULL for a
    note on the whole text and for an orphan whose words no longer exist; ``exact`` stays.
    """

    __tablename__ = "annotation"
    __table_args__ = (
        Index("ix_annotation_text_user", "text_id", "user_id"),
        Index("ix_annotation_user_created", "user_id", "created_at"),
        Index("ix_annotation_text_visibility", "text_id", "visibility", "group_id"),
        Index("ix_annotation_root", "root_id"),
        # One copy of an annotation per reader and text: a re-import finds it by ``via``, and
        # two imports at once cannot both insert it.
        UniqueConstraint("user_id", "text_id", "via"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    text_id: Mapped[int] = mapped_column(ForeignKey("text.id", ondelete="CASCADE"))
    revision_id: Mapped[int] = mapped_column(ForeignKey("text_revision.id", ondelete="CASCADE"))
    # The revision it was written on: set once when stored, never moved by re-anchoring.
    written_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("text_revision.id", ondelete="CASCADE")
    )
    motivation: Mapped[Motivation] = mapped_column(str_enum(Motivation))
    visibility: Mapped[Visibility] = mapped_column(str_enum(Visibility), default=Visibility.PRIVATE)
    # Set exactly when visibility is GROUP.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("reading_group.id", ondelete="CASCADE"))
    # Replies: parent is what this answers, root the thread's first annotation (NULL on roots).
    # A reply carries its root's visibility and group, so one rule covers a whole thread.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"))
    root_id: Mapped[int | None] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"))
    # The group's thread about one paragraph ("Discuss ¶4"): a root with no words of its own.
    is_discussion: Mapped[bool] = mapped_column(default=False)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    color: Mapped[HighlightColor | None] = mapped_column(str_enum(HighlightColor))
    exact: Mapped[str | None] = mapped_column(SAText)
    prefix: Mapped[str] = mapped_column(String(64), default="")
    suffix: Mapped[str] = mapped_column(String(64), default="")
    start: Mapped[int | None] = mapped_column(Integer)
    end: Mapped[int | None] = mapped_column(Integer)
    body_source: Mapped[str] = mapped_column(SAText, default="")
    body_html: Mapped[str] = mapped_column(SAText, default="")
    # The words' media type and language as the writer gave them (W3C model §3.2.4): the page
    # writes Markdown; an API client may send plain text or HTML, each rendered safely.
    body_format: Mapped[str] = mapped_column(
        String(32), default="text/markdown", server_default="text/markdown"
    )
    body_language: Mapped[str | None] = mapped_column(String(35))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who deleted it: its author (or NULL, from before this was kept), or a moderator who
    # removed it, whose removal only a moderator undoes.
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # W3C model §3.3.2: ``via`` is the IRI the annotation had where it came from (an imported
    # file's id, or the id a client sent with its POST), ``canonical`` the one IRI a client says
    # names it across every system; both kept as given, served back when set.
    via: Mapped[str | None] = mapped_column(String(MAX_IRI_CHARS))
    canonical: Mapped[str | None] = mapped_column(String(MAX_IRI_CHARS))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    text: Mapped[Text] = relationship()
    revision: Mapped[TextRevision] = relationship(foreign_keys=[revision_id])
    written_revision: Mapped[TextRevision | None] = relationship(foreign_keys=[written_revision_id])
    # A suggestion's replacement and state (motivation ``editing`` only): read with the
    # annotations, as the tags are, so a margin or a page of the API showing many suggestions
    # costs one query, not one each.
    suggestion: Mapped[Suggestion | None] = relationship(
        back_populates="annotation", cascade="all, delete-orphan", uselist=False, lazy="selectin"
    )
    tags: Mapped[list[AnnotationTag]] = relationship(
        cascade="all, delete-orphan", order_by="AnnotationTag.name", lazy="selectin"
    )
    versions: Mapped[list[AnnotationVersion]] = relationship(
        cascade="all, delete-orphan", order_by="AnnotationVersion.number"
    )

    @property
    def is_reply(self) -> bool:
        return self.root_id is not None

    @property
    def is_private(self) -> bool:
        return self.visibility is Visibility.PRIVATE

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_text_note(self) -> bool:
        return self.exact is None and self.root_id is None

    @property
    def is_edited(self) -> bool:
        """Edits are the only writes that move ``updated_at`` away from ``created_at``."""
        return self.updated_at != self.created_at

    @property
    def kind(self) -> Kind:
        if self.motivation is Motivation.QUESTIONING:
            return Kind.QUESTION
        return Kind.NOTE if self.body_html else Kind.HIGHLIGHT  # rendered only from words

    @property
    def is_orphan(self) -> bool:
        return self.exact is not None and self.start is None

    # For a listing that read every tag in one query: ``tag_names`` then loads nothing.
    preloaded_tag_names = None  # not a column: a plain attribute, per instance once set

    @property
    def tag_names(self) -> list[str]:
        preloaded = self.preloaded_tag_names
        return preloaded if preloaded is not None else [t.name for t in self.tags]

    def preload_tag_names(self, names: list[str]) -> None:
        self.preloaded_tag_names = names


class SuggestionStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Suggestion(db.Model):
    """What a suggested correction (an annotation with motivation ``editing``) proposes, and
    what became of it: the words to put in place of its span, and who accepted or declined it
    (an accepted one names the revision it made)."""

    __tablename__ = "suggestion"

    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotation.id", ondelete="CASCADE"), primary_key=True
    )
    # The words it would replace, as they were when suggested: re-anchoring moves the note
    # onto other words when these change, and a suggestion is only ever accepted on these.
    original: Mapped[str] = mapped_column(SAText)
    replacement: Mapped[str] = mapped_column(SAText)
    status: Mapped[SuggestionStatus] = mapped_column(
        str_enum(SuggestionStatus), default=SuggestionStatus.OPEN
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("text_revision.id", ondelete="SET NULL")
    )

    annotation: Mapped[Annotation] = relationship(back_populates="suggestion")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    revision: Mapped[TextRevision | None] = relationship(foreign_keys=[revision_id])


class AnnotationTag(db.Model):
    __tablename__ = "annotation_tag"
    __table_args__ = (
        UniqueConstraint("annotation_id", "name"),
        Index("ix_annotation_tag_name", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))


class AnnotationVersion(db.Model):
    """An earlier state of an annotation, saved each time its author edits it."""

    __tablename__ = "annotation_version"
    __table_args__ = (UniqueConstraint("annotation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    body_source: Mapped[str] = mapped_column(SAText)
    body_html: Mapped[str] = mapped_column(SAText)
    tags: Mapped[str] = mapped_column(SAText, default="")  # space-separated, as they were
    color: Mapped[HighlightColor | None] = mapped_column(str_enum(HighlightColor))
    # When this version was written (the annotation's creation or an earlier edit).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # True once the annotation has moved to another audience since these words were written:
    # they were not written for those who may read it now, so only the author reads them.
    author_only: Mapped[bool] = mapped_column(default=False, server_default=false())


class Reaction(db.Model):
    """One reader's *agree* or *question* on an annotation: at most one of each kind."""

    __tablename__ = "reaction"
    __table_args__ = (UniqueConstraint("annotation_id", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[ReactionKind] = mapped_column(str_enum(ReactionKind))
    created_at: Mapped[datetime] = created_at_column()


class Flag(db.Model):
    """A member's report that an annotation needs an instructor's attention."""

    __tablename__ = "flag"
    __table_args__ = (
        # One open flag per reader and annotation: a second is the same report again.
        Index(
            "uq_flag_open",
            "annotation_id",
            "user_id",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(SAText)
    created_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    annotation: Mapped[Annotation] = relationship()
    user: Mapped[User] = relationship()


class IdempotencyKey(db.Model):
    """A client's retry key for a create: the same key twice returns the first annotation."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = created_at_column()


class AnnotationImport(db.Model):
    """One import of a file of annotations into a text: an import is one operation, counted
    against its own quota (services/annotation_import.py) rather than note by note."""

    __tablename__ = "annotation_import"
    __table_args__ = (Index("ix_annotation_import_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    text_id: Mapped[int] = mapped_column(ForeignKey("text.id", ondelete="CASCADE"))
    stored: Mapped[int] = mapped_column(Integer)  # annotations it added
    created_at: Mapped[datetime] = created_at_column()
