"""What a reading page is keyed on, read in one statement before its annotations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from app.models import (
    Annotation,
    Flag,
    Membership,
    ReadingAssignment,
    Text,
    TextRevision,
)
from app.models.annotation import group_key
from app.models.text import ParagraphSpan
from app.services import groups, live, notifications, revision_cache
from app.services.access import (
    ANONYMOUS,
    VISIBLE_RULES,
    Viewer,
    visibility_rule,
)
from app.services.texts.lens import Filters, Lens, default_lens, lens_options


class Assignment(NamedTuple):
    """A group's reading assignment of the text, as the page header shows it."""

    id: int
    group_id: int
    group_name: str
    due_on: date | None
    prompt: str


@dataclass(frozen=True)
class PageRequest:
    """What a reader asked of a reading page besides the text and the lens.

    ``expand``: paragraphs whose margins list every note (0: the whole text's notes);
    ``note_forms`` and ``discuss_forms``: paragraphs whose forms a reader without JavaScript
    opened; ``prompt_forms``: those whose pinned question an instructor opened to write or
    edit; ``focus``: the note a reader was sent to (shown, its thread open); ``printing``: the
    print version (``/texts/<slug>/print``), every margin listing every note, every thread open;
    ``heat``: in a group's lens, each margin heads with the group's activity on its paragraph.
    """

    filters: Filters = field(default_factory=Filters)
    expand: frozenset[int] = frozenset()
    note_forms: frozenset[int] = frozenset()
    discuss_forms: frozenset[int] = frozenset()
    prompt_forms: frozenset[int] = frozenset()
    focus: int | None = None
    printing: bool = False
    heat: bool = False


@dataclass
class ReadingContext:
    """What a reading page needs before its annotations: read on every request in one statement.

    ``cursor`` is the text's change-log position; with the lens, the viewer and what the reader
    asked of the page (a ``PageRequest``) it names the rendered page exactly (see ``page_key``),
    so a cached render can stand in for it.
    The text itself is loaded only when the page is rendered.
    """

    session: Session
    text_id: int
    revision_id: int
    lens: Lens
    lens_options: list[tuple[str, str]]
    group_names: dict[int, str]
    assignments: list[Assignment]
    cursor: int
    unread_count: int
    revision_hash: str = ""  # the revision's content hash: names its cached layout
    # The reader's flags on the text still waiting for a moderator, as (how many, the last id):
    # the page lists them (its parts are rendered for nobody's flags), so its key names them. A
    # new flag has the highest id; a dismissed one lowers the count.
    my_flags: tuple[int, int | None] = (0, None)
    # The text's title, author and citation: edited without a new revision (texts/adding.py),
    # so the page's key names them.
    details: tuple[str, str, str] = ("", "", "")
    revision_number: int = 1  # what the page says it shows ("Revision 2 · history")

    @cached_property
    def text(self) -> Text:
        return self.session.get(Text, self.text_id)

    @cached_property
    def revision(self) -> TextRevision:
        return self.session.get(TextRevision, self.revision_id)

    @cached_property
    def spans(self) -> list[ParagraphSpan]:
        """The revision's paragraphs with their offsets (detached copies: read them only)."""
        return revision_cache.layout_of(self.session, self.revision_id, self.revision_hash).spans

    def default_audience(self, viewer: Viewer) -> str:
        """Where the reader's new notes and highlights go unless they choose otherwise: in the
        lens of a group they belong to, that group (a seminar reads there together); elsewhere
        their last choice of "private" or "public" (writing.py keeps it), never a group: a note
        there would not show in the lens it was written in, or in a group the reader has left."""
        if viewer.user is None:
            return "private"
        if self.lens.group_id in self.group_names:
            return group_key(self.lens.group_id)
        return viewer.user.last_audience if viewer.user.last_audience == "public" else "private"

    def page_key(self, viewer: Viewer, page_request: PageRequest, csrf_secret: str | None) -> tuple:
        """Everything a whole reading page is made from, for this reader.

        Its parts (views/library.py: ``_parts``) are made from this context, the viewer (or
        their audience's stand-in) and ``page_request``, and within that from the reader's
        default audience (``default_audience``) and the CSRF token their forms carry (made
        from the session's secret); the page around them shows the reader's name, inbox count
        and assignments.
        The text's cursor names every change to its annotations. A new input has to come
        through one of these, and this key is where it is listed. An anonymous page has no
        forms and no secret, and is one for every visitor.
        """
        user = viewer.user
        return (
            "reading",
            self.text_id,
            self.revision_id,
            self.lens.key,
            self.cursor,
            viewer.cache_key,
            tuple(sorted(self.group_names.items())),
            self.default_audience(viewer),
            page_request,
            csrf_secret if user else None,
            user and user.display_name,
            self.unread_count,
            tuple(self.assignments),
            self.my_flags,
            self.details,
        )


def _my_open_flags(aggregate) -> Select:
    """``aggregate`` of the ids of ``:user_id``'s open flags on the text's notes."""
    return (
        select(aggregate(Flag.id))
        .join(Annotation, Annotation.id == Flag.annotation_id)
        .where(
            Flag.user_id == bindparam("user_id"),
            Flag.resolved_at.is_(None),
            Annotation.text_id == Text.id,
        )
        .correlate(Text)
    )


def _reading_stamp(rule: str) -> Select:
    """The text, its change-log cursor, the viewer's unread count and open flags, and the
    viewer's groups' assignments of the text (one row each, or one row of NULLs): everything a
    cached reading page is keyed on, in one prebuilt statement per kind of viewer."""
    assigned = ReadingAssignment.__table__.join(
        Membership.__table__,
        (Membership.group_id == ReadingAssignment.group_id)
        & (Membership.user_id == bindparam("user_id")),
    )
    return (
        select(
            Text.id,
            Text.current_revision_id,
            TextRevision.content_hash,
            Text.title,
            Text.author,
            Text.citation,
            TextRevision.number.label("revision_number"),
            live.cursor_of(Text.id).label("cursor"),
            notifications.unread_query(rule).scalar_subquery().label("unread"),
            _my_open_flags(func.count).scalar_subquery().label("flag_count"),
            _my_open_flags(func.max).scalar_subquery().label("last_flag"),
            ReadingAssignment.id.label("assignment_id"),
            ReadingAssignment.group_id,
            ReadingAssignment.due_on,
            ReadingAssignment.prompt,
        )
        .select_from(Text.__table__)
        .outerjoin(TextRevision.__table__, TextRevision.id == Text.current_revision_id)
        .outerjoin(assigned, ReadingAssignment.text_id == Text.id)
        .where(Text.slug == bindparam("slug"))
        .order_by(ReadingAssignment.id)
    )


# Built once: on every reading page, where building them costs more than running them.
_READING_STAMPS = {rule: _reading_stamp(rule) for rule in VISIBLE_RULES}


def reading_context(
    session: Session, slug: str, viewer: Viewer = ANONYMOUS, lens: Lens | None = None
) -> ReadingContext | None:
    # The cursor is read with the text, before the annotations: a change made in between is
    # then both on the page and in the feed (a harmless repeat), never in neither.
    rule, params = visibility_rule(viewer)
    rows = (
        session.connection()
        .execute(_READING_STAMPS[rule], {"slug": slug, "user_id": viewer.id, **params})
        .all()
    )
    if not rows or rows[0].current_revision_id is None:
        return None
    first = rows[0]
    group_names = groups.names(session, viewer)
    assignments = [
        Assignment(r.assignment_id, r.group_id, group_names[r.group_id], r.due_on, r.prompt)
        for r in rows
        if r.assignment_id is not None and r.group_id in group_names
    ]
    if lens is None or (lens.kind == "group" and lens.group_id not in group_names):
        lens = default_lens(viewer, [a.group_id for a in assignments])
    if lens.kind == "mine" and viewer.user is None:
        lens = Lens("public")
    return ReadingContext(
        session,
        first.id,
        first.current_revision_id,
        lens,
        lens_options(viewer, group_names),
        group_names,
        assignments,
        first.cursor,
        first.unread if viewer.user is not None else 0,
        first.content_hash,
        (first.flag_count, first.last_flag) if viewer.user is not None else (0, None),
        (first.title, first.author, first.citation),
        first.revision_number,
    )
