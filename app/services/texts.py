"""Reading the library: which texts there are and what a reading page shows.

The server knows the text and every anchor, so it splits each paragraph at annotation
boundaries itself and the page arrives with its highlights in place: no anchoring work in the
browser, nothing to wait for, and it works without JavaScript.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased, joinedload, raiseload, selectinload

from app.models import (
    Annotation,
    AnnotationTag,
    HighlightColor,
    Membership,
    Motivation,
    Paragraph,
    ReadingAssignment,
    Text,
    TextRevision,
    Visibility,
)
from app.models.text import ParagraphRole, ParagraphSpan, paragraph_index
from app.services import discussion, groups, live, notifications
from app.services.access import (
    ANONYMOUS,
    VISIBLE_RULES,
    Action,
    Viewer,
    can,
    visibility_rule,
    visible_to,
)
from app.services.annotations import normalise_tag


@dataclass(frozen=True)
class LibraryEntry:
    text: Text
    paragraph_count: int


@dataclass(frozen=True)
class Segment:
    """A run of a paragraph's characters covered by the same annotations.

    It names the innermost of them and how many there are, never all of them: with thousands of
    nested highlights a list per segment made the page grow with their square. Which notes
    cover a mark follows from the offsets (``start`` here, a note's own on its card).
    """

    text: str
    start: int
    count: int = 0  # annotations covering it
    top: Annotation | None = None  # the innermost (latest start, then shortest): its colour shows
    starting: tuple[int, ...] = ()  # ids of those that begin here: each begins in one segment

    @property
    def label(self) -> str:
        """What a screen reader hears where the highlight begins (the mark's ::before)."""
        if self.count > 1:
            return f"{self.count} annotations"
        if self.top.is_hidden:  # whether it had words is part of them
            return "hidden annotation"
        color = f", {self.top.color.value}" if self.top.color else ""
        if self.top.body_html:
            return f"note by {self.top.user.display_name}{color}"
        return f"highlight{color}"

    @property
    def mark_id(self) -> int | None:
        """The annotation whose ``m<id>`` the mark carries: links to a note's words land here.
        The innermost one if it begins here, else the first that does."""
        if not self.starting:
            return None
        return self.top.id if self.top.id in self.starting else self.starting[0]


@dataclass
class ParagraphView:
    span: ParagraphSpan
    segments: list[Segment] = field(default_factory=list)
    notes: list[Annotation] = field(default_factory=list)  # shown annotations that start here
    count: int = 0  # annotations starting here in the lens, whatever the filters hide
    more: int = 0  # of those that pass the filters, how many the margin leaves out
    discussion: Annotation | None = None  # the lens group's "Discuss ¶N" thread

    @property
    def paragraph(self) -> Paragraph:
        return self.span.paragraph


@dataclass
class ReadingView:
    text: Text
    revision: TextRevision
    paragraphs: list[ParagraphView]
    text_notes: list[Annotation] = field(default_factory=list)
    orphans: list[Annotation] = field(default_factory=list)
    # Of those that pass the filters, how many the whole text's section leaves out (as a
    # margin does: a thousand long notes on the whole text made every visitor's page 8 MB).
    whole_text_more: int = 0
    lens: Lens | None = None
    filters: Filters | None = None
    lens_options: list[tuple[str, str]] = field(default_factory=list)
    group_names: dict[int, str] = field(default_factory=dict)
    assignments: list[Assignment] = field(default_factory=list)
    conversation: discussion.Conversation = field(default_factory=lambda: discussion.Conversation())
    members: list[tuple[int, str]] = field(default_factory=list)
    cursor: int = 0  # the live feed's position when the page was rendered
    focus: int | None = None  # the note the reader was sent to: shown, its thread open

    @property
    def spans(self) -> list[ParagraphSpan]:
        return [p.span for p in self.paragraphs]

    def _with_roles(self, *roles: ParagraphRole) -> list[ParagraphView]:
        return [p for p in self.paragraphs if p.paragraph.role in roles]

    @property
    def front_matter(self) -> list[ParagraphView]:
        return self._with_roles(ParagraphRole.CAPTION, ParagraphRole.FRONT_MATTER)

    @property
    def body(self) -> list[ParagraphView]:
        return self._with_roles(ParagraphRole.BODY)

    @property
    def citations(self) -> list[ParagraphView]:
        return self._with_roles(ParagraphRole.CITATION)

    @property
    def annotation_count(self) -> int:
        anchored = sum(len(p.notes) for p in self.paragraphs)
        return anchored + len(self.text_notes) + len(self.orphans)


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


def segments(span: ParagraphSpan, covering: list[Annotation]) -> list[Segment]:
    """Split a paragraph at every annotation boundary inside it: a sweep with heaps, so the
    work grows with the annotations times their logarithm, however they nest or cross."""
    body, base = span.paragraph.body, span.start
    cuts = {span.start, span.end}
    starting: dict[int, list[Annotation]] = {}
    for a in covering:
        first = max(a.start, span.start)  # one that began in an earlier paragraph begins here
        cuts.add(first)
        cuts.add(min(a.end, span.end))
        starting.setdefault(first, []).append(a)
    # Innermost first: latest start, then shortest, then newest (ids are unique, so the
    # annotations themselves are never compared). Entries of ended annotations linger until
    # they reach the top.
    innermost: list[tuple[int, int, int, Annotation]] = []
    ending: list[tuple[int, int]] = []  # (end, id)
    open_ids: set[int] = set()
    result = []
    for left, right in itertools.pairwise(sorted(cuts)):
        for a in starting.get(left, ()):
            open_ids.add(a.id)
            heapq.heappush(innermost, (-a.start, a.end, -a.id, a))
            heapq.heappush(ending, (a.end, a.id))
        while ending and ending[0][0] <= left:
            open_ids.discard(heapq.heappop(ending)[1])
        while innermost and -innermost[0][2] not in open_ids:
            heapq.heappop(innermost)
        text = body[left - base : right - base]
        if not open_ids:
            result.append(Segment(text, left))
            continue
        here = tuple(a.id for a in starting.get(left, ()) if a.start == left)
        result.append(Segment(text, left, len(open_ids), innermost[0][3], here))
    return result


class Sort(enum.StrEnum):
    POSITION = "position"
    NEWEST = "newest"
    DISCUSSED = "discussed"
    QUESTIONS = "questions"


class Kind(enum.StrEnum):
    HIGHLIGHT = "highlight"
    NOTE = "note"
    QUESTION = "question"


@dataclass(frozen=True)
class Lens:
    """Whose annotations the page shows: ``mine``, ``public`` or ``group`` (with its id)."""

    kind: str
    group_id: int | None = None

    @property
    def key(self) -> str:
        return f"group-{self.group_id}" if self.kind == "group" else self.kind

    @classmethod
    def showing(cls, annotation: Annotation) -> Lens | None:
        """A lens sure to show ``annotation`` to whoever may see it: its group's, or the public
        one; None for a private note, which its author's default lens shows (their own, or a
        group's, which shows their private notes too). A reply has its root's audience."""
        if annotation.visibility is Visibility.GROUP:
            return cls("group", annotation.group_id)
        return cls("public") if annotation.visibility is Visibility.PUBLIC else None

    @classmethod
    def parse(cls, key: str | None) -> Lens | None:
        if key in ("mine", "public"):
            return cls(key)
        if key and key.startswith("group-") and key[6:].isascii() and key[6:].isdigit():
            return cls("group", int(key[6:]))
        return None

    def where(self, viewer: Viewer, notes=Annotation):
        """The lens as SQL, on ``notes`` (the annotation table, or an alias of it)."""
        if self.kind == "mine":
            return notes.user_id == viewer.id
        if self.kind == "public":
            return notes.visibility == Visibility.PUBLIC
        in_group = (notes.visibility == Visibility.GROUP) & (notes.group_id == self.group_id)
        # My own private notes show in a group's lens too: a highlight made while reading with
        # the seminar must not vanish from under the reader.
        mine = (notes.user_id == viewer.id) & (notes.visibility == Visibility.PRIVATE)
        return in_group | mine


@dataclass(frozen=True)
class Filters:
    member: int | None = None
    tag: str | None = None
    color: HighlightColor | None = None
    kind: Kind | None = None
    sort: Sort = Sort.POSITION

    @property
    def active(self) -> bool:
        return any((self.member, self.tag, self.color, self.kind))


def kind_of(annotation: Annotation) -> Kind:
    if annotation.motivation is Motivation.QUESTIONING:
        return Kind.QUESTION
    return Kind.NOTE if annotation.body_source.strip() else Kind.HIGHLIGHT


def lens_options(viewer: Viewer, group_names: dict[int, str]) -> list[tuple[str, str]]:
    """(key, label) of every lens the viewer may use, in menu order."""
    options = [("mine", "My notes")] if viewer.user is not None else []
    options += [
        (Lens("group", gid).key, name)
        for gid, name in sorted(group_names.items(), key=lambda g: g[1].lower())
    ]
    options.append(("public", "Public"))
    return options


def _passes(annotation: Annotation, filters: Filters, viewer: Viewer) -> bool:
    if filters.member and annotation.user_id != filters.member:
        return False
    if (filters.tag or filters.kind) and not can(viewer, Action.READ_HIDDEN, annotation):
        # A hidden note's tags and words (whether it has any) are not there to filter by: a
        # filter must not confirm what the page itself does not show.
        return False
    if filters.tag and normalise_tag(filters.tag) not in annotation.tag_names:
        return False
    if filters.color and annotation.color != filters.color:
        return False
    return not (filters.kind and kind_of(annotation) != filters.kind)


def _sort_key(filters: Filters, conversation: discussion.Conversation, viewer: Viewer):
    if filters.sort is Sort.NEWEST:
        return lambda a: (-a.created_at.timestamp(), -a.id)
    if filters.sort is Sort.DISCUSSED:
        return lambda a: (-conversation.reply_counts.get(a.id, 0), a.start or 0, a.id)
    if filters.sort is Sort.QUESTIONS:
        return lambda a: (
            kind_of(a) is not Kind.QUESTION or not can(viewer, Action.READ_HIDDEN, a),
            -conversation.count(a.id, "question"),
            a.start or 0,
            a.id,
        )
    return lambda a: (a.start if a.start is not None else -1, a.id)


def default_lens(viewer: Viewer, reading_groups: list[int]) -> Lens:
    """A seminar reading this text first, then my own notes, then the public discussion."""
    if reading_groups:
        return Lens("group", reading_groups[0])
    return Lens("mine") if viewer.user is not None else Lens("public")


class Assignment(NamedTuple):
    """A group's reading assignment of the text, as the page header shows it."""

    id: int
    group_id: int
    group_name: str
    due_on: date | None
    prompt: str


@dataclass
class ReadingContext:
    """What a reading page needs before its annotations: read on every request in one statement.

    ``cursor`` is the text's change-log position; with the lens, the viewer and the filters it
    names the rendered page exactly (see ``page_key``), so a cached render can stand in for it.
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

    @cached_property
    def text(self) -> Text:
        return self.session.get(Text, self.text_id)

    def page_key(self, viewer: Viewer, *extra) -> tuple:
        return (
            "reading",
            self.text_id,
            self.revision_id,
            self.lens.key,
            self.cursor,
            viewer.cache_key,
            tuple(sorted(self.group_names.items())),
            *extra,
        )


def _reading_stamp(rule: str) -> Select:
    """The text, its change-log cursor, the viewer's unread count and the viewer's groups'
    assignments of the text (one row each, or one row of NULLs): everything a cached reading
    page is keyed on, in one prebuilt statement per kind of viewer."""
    assigned = ReadingAssignment.__table__.join(
        Membership.__table__,
        (Membership.group_id == ReadingAssignment.group_id)
        & (Membership.user_id == bindparam("user_id")),
    )
    return (
        select(
            Text.id,
            Text.current_revision_id,
            live.cursor_of(Text.id).label("cursor"),
            notifications.unread_query(rule).scalar_subquery().label("unread"),
            ReadingAssignment.id.label("assignment_id"),
            ReadingAssignment.group_id,
            ReadingAssignment.due_on,
            ReadingAssignment.prompt,
        )
        .select_from(Text.__table__)
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
    )


def reading_view(
    session: Session,
    slug: str,
    viewer: Viewer = ANONYMOUS,
    lens: Lens | None = None,
    filters: Filters | None = None,
    *,
    context: ReadingContext | None = None,
    margin_limit: int | None = None,
    whole_text_limit: int | None = None,
    expand: frozenset[int] = frozenset(),
    focus: int | None = None,
) -> ReadingView | None:
    """The page's whole content in a fixed number of queries, however many annotations.

    With ``margin_limit``, each paragraph's margin lists that many notes (in the sort order)
    and counts the rest (``whole_text_limit``: the notes on the whole text and those whose
    words are gone, together; paragraph 0 in ``expand``), except the paragraphs numbered in
    ``expand`` and the note ``focus``
    (one a reader just wrote or answered, sent back to it without JavaScript to bring it in):
    every highlight is in the text all the same.
    """
    filters = filters or Filters()
    context = context or reading_context(session, slug, viewer, lens)
    if context is None:
        return None
    text, lens = context.text, context.lens
    revision = session.scalar(
        select(TextRevision)
        .where(TextRevision.id == context.revision_id)
        .options(selectinload(TextRevision.paragraphs))
    )
    spans = revision.spans()
    views = [ParagraphView(s) for s in spans]
    view = ReadingView(
        text,
        revision,
        views,
        cursor=context.cursor,
        lens=lens,
        filters=filters,
        lens_options=context.lens_options,
        group_names=context.group_names,
        assignments=context.assignments,
        focus=focus,
    )
    roots = list(
        session.scalars(
            select(Annotation)
            .where(
                Annotation.text_id == text.id,
                Annotation.root_id.is_(None),
                visible_to(viewer),
                lens.where(viewer),
            )
            .options(joinedload(Annotation.user), raiseload(Annotation.tags))
        )
    )
    _preload_tag_names(session, text.id, roots)
    # A note its author deleted after others answered it stays as a placeholder with its thread:
    # their answers are not lost with it. Unfiltered pages only: it has nothing left to filter.
    answered = [] if filters.active else _deleted_but_answered(session, viewer, text.id, lens)
    # Counts for every note now (the sort needs them); threads below, for the notes shown.
    view.conversation = discussion.conversation(
        session, viewer, [*roots, *answered], threads_for=()
    )
    view.members = sorted(
        {(a.user_id, a.user.display_name) for a in roots}, key=lambda m: m[1].lower()
    )

    def paragraph_of(annotation: Annotation) -> int:
        return paragraph_index(spans, annotation.start)

    shown = []
    for annotation in roots:
        if annotation.is_discussion:
            views[paragraph_of(annotation)].discussion = annotation
            continue
        if annotation.start is not None:
            views[paragraph_of(annotation)].count += 1
        if _passes(annotation, filters, viewer):
            shown.append(annotation)
    shown.extend(answered)
    shown.sort(key=_sort_key(filters, view.conversation, viewer))
    covering: list[list[Annotation]] = [[] for _ in spans]
    whole_text_limited = whole_text_limit is not None and 0 not in expand
    for annotation in shown:
        if annotation.is_text_note or annotation.is_orphan:
            listed = len(view.text_notes) + len(view.orphans)
            if whole_text_limited and listed >= whole_text_limit and annotation.id != focus:
                view.whole_text_more += 1
            else:
                (view.text_notes if annotation.is_text_note else view.orphans).append(annotation)
            continue
        first = paragraph_of(annotation)
        margin = views[first]
        limited = margin_limit is not None and margin.paragraph.number not in expand
        if limited and len(margin.notes) >= margin_limit and annotation.id != focus:
            margin.more += 1
        else:
            margin.notes.append(annotation)
        if annotation.deleted_at is not None:
            continue  # its words are gone from the text too
        index = first
        while index < len(spans) and spans[index].start < annotation.end:
            if spans[index].end > annotation.start:
                covering[index].append(annotation)
            index += 1
    for paragraph_view, covered in zip(views, covering, strict=True):
        paragraph_view.segments = segments(paragraph_view.span, covered)
    threaded = [*view.text_notes, *view.orphans]
    for paragraph_view in views:
        threaded.extend(paragraph_view.notes)
        if paragraph_view.discussion is not None:
            threaded.append(paragraph_view.discussion)
    discussion.add_threads(session, viewer, view.conversation, threaded)
    return view


def _deleted_but_answered(
    session: Session, viewer: Viewer, text_id: int, lens: Lens
) -> list[Annotation]:
    """Deleted first notes in the lens with an answer the viewer may see (which has the
    note's audience: whoever sees the answer could see the note)."""
    note = aliased(Annotation)
    answer = select(Annotation.id).where(Annotation.root_id == note.id, visible_to(viewer))
    return list(
        session.scalars(
            select(note)
            .where(
                note.text_id == text_id,
                note.root_id.is_(None),
                note.deleted_at.is_not(None),
                lens.where(viewer, note),
                answer.exists(),
            )
            .options(joinedload(note.user))
        )
    )


_TAGS_OF_ROOTS = (
    select(AnnotationTag.annotation_id, AnnotationTag.name)
    .join(Annotation, Annotation.id == AnnotationTag.annotation_id)
    .where(Annotation.text_id == bindparam("text_id"), Annotation.root_id.is_(None))
    .order_by(AnnotationTag.annotation_id, AnnotationTag.name)
)


def _preload_tag_names(session: Session, text_id: int, roots: list[Annotation]) -> None:
    """Every root's tag names in one Core query: the relationship, loaded for thousands of
    notes, cost more than the rest of their loading together."""
    names: dict[int, list[str]] = {}
    for annotation_id, name in session.connection().execute(_TAGS_OF_ROOTS, {"text_id": text_id}):
        names.setdefault(annotation_id, []).append(name)
    for annotation in roots:
        annotation.preload_tag_names(names.get(annotation.id, []))


def text_by_slug(session: Session, slug: str) -> Text | None:
    return session.scalar(select(Text).where(Text.slug == slug))
