"""A reading page's view model: paragraphs with their segments and margins, whole-text notes."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, bindparam, false, or_, select, true
from sqlalchemy.orm import Session, aliased, joinedload, raiseload

from app.models import (
    Annotation,
    AnnotationTag,
    Paragraph,
    ParagraphPrompt,
    Text,
    TextRevision,
)
from app.models.text import ParagraphRole, ParagraphSpan, paragraph_index
from app.services import dashboard, discussion, prompts
from app.services.access import (
    ANONYMOUS,
    Viewer,
    visible_to,
)
from app.services.live import WHOLE_TEXT_PART
from app.services.texts.context import Assignment, PageRequest, ReadingContext, reading_context
from app.services.texts.lens import Filters, Lens, passes, sort_key
from app.services.texts.segments import Segment, segments


@dataclass
class ParagraphView:
    span: ParagraphSpan
    segments: list[Segment] = field(default_factory=list)
    notes: list[Annotation] = field(default_factory=list)  # shown annotations that start here
    count: int = 0  # annotations starting here in the lens, whatever the filters hide
    more: int = 0  # of those that pass the filters, how many the margin leaves out
    discussion: Annotation | None = None  # the lens group's "Discuss ¶N" thread
    prompt: ParagraphPrompt | None = None  # the question an instructor pinned to it

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
    page_request: PageRequest = field(default_factory=PageRequest)
    lens_options: list[tuple[str, str]] = field(default_factory=list)
    group_names: dict[int, str] = field(default_factory=dict)
    assignments: list[Assignment] = field(default_factory=list)
    conversation: discussion.Conversation = field(default_factory=lambda: discussion.Conversation())
    members: list[tuple[int, str]] = field(default_factory=list)
    cursor: int = 0  # the live feed's position when the page was rendered
    # The heat strip (``PageRequest.heat``): each paragraph's number of the lens group's notes
    # and replies, and its shade; None when the page does not show it.
    heat: dict[int, tuple[int, int]] | None = None

    @property
    def filters(self) -> Filters:
        return self.page_request.filters

    @property
    def focus(self) -> int | None:
        return self.page_request.focus

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


def reading_view(
    session: Session,
    slug: str,
    viewer: Viewer = ANONYMOUS,
    lens: Lens | None = None,
    page_request: PageRequest | None = None,
    *,
    context: ReadingContext | None = None,
    margin_limit: int | None = None,
    whole_text_limit: int | None = None,
    only: frozenset[int] | None = None,
) -> ReadingView | None:
    """The page's whole content in a fixed number of queries, however many annotations.

    With ``margin_limit``, each paragraph's margin lists that many notes (in the sort order; in a
    shared lens the reader's private notes after the lens's, which they never push out of view)
    and counts the rest (``whole_text_limit``: the notes on the whole text and those whose
    words are gone, together), except the paragraphs in ``page_request.expand`` (0: the whole
    text's) and the note ``page_request.focus`` (one a reader just wrote or answered, sent back to
    it without JavaScript to bring it in): every highlight is in the text all the same.

    With ``only`` (paragraph numbers, 0 for the part with the whole text's notes), just the
    annotations those parts show are read: the other paragraphs' margins are left empty.
    """
    page_request = page_request or PageRequest()
    filters, expand, focus = page_request.filters, page_request.expand, page_request.focus
    context = context or reading_context(session, slug, viewer, lens)
    if context is None:
        return None
    text, lens = context.text, context.lens
    revision, spans = context.revision, context.spans
    views = [ParagraphView(s) for s in spans]
    view = ReadingView(
        text,
        revision,
        views,
        cursor=context.cursor,
        lens=lens,
        page_request=page_request,
        lens_options=context.lens_options,
        group_names=context.group_names,
        assignments=context.assignments,
    )
    if page_request.heat and lens.kind == "group" and viewer.is_member(lens.group_id):
        activity = dashboard.paragraph_activity(session, viewer, text.id, lens.group_id, spans)
        view.heat = {n: (count, dashboard.strip_level(count)) for n, count in activity.items()}
    roots = list(
        session.scalars(
            select(Annotation)
            .where(
                Annotation.text_id == text.id,
                Annotation.root_id.is_(None),
                visible_to(viewer),
                lens.where(viewer),
                _in_parts(spans, only),
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
        # A discussion whose paragraph is gone from the text (revised) is listed with the other
        # notes whose words are gone, its answers with it.
        if annotation.is_discussion and annotation.start is not None:
            views[paragraph_of(annotation)].discussion = annotation
            continue
        if annotation.start is not None:
            views[paragraph_of(annotation)].count += 1
        if passes(annotation, filters, viewer):
            shown.append(annotation)
    discussed = {v.discussion.id: v for v in views if v.discussion is not None}
    for thread_id, prompt in prompts.for_threads(session, list(discussed)).items():
        discussed[thread_id].prompt = prompt
    shown.extend(answered)
    order = sort_key(filters, view.conversation, viewer)
    if lens.kind == "mine":
        shown.sort(key=order)
    else:  # a shared lens: its discussion first, the reader's private notes after it
        shown.sort(key=lambda a: (a.is_private, order(a)))
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


# Made once: a fresh alias costs ~1 ms the first time its columns are compared, more than
# the query it builds (measured on the access fuzz test's page renders).
_DELETED_NOTE = aliased(Annotation, name="deleted_note")


def _in_parts(spans: list[ParagraphSpan], only: frozenset[int] | None) -> ColumnElement[bool]:
    """The annotations shown in the parts ``only`` names: those starting in or covering one of
    its paragraphs, and with 0 those on the whole text or whose words are gone."""
    if only is None:
        return true()
    ranges = [(s.start, s.end) for s in spans if s.paragraph.number in only]
    clauses = [(Annotation.start < end) & (Annotation.end > start) for start, end in ranges]
    if WHOLE_TEXT_PART in only:
        clauses.append(Annotation.start.is_(None))
    return or_(false(), *clauses)


def _deleted_but_answered(
    session: Session, viewer: Viewer, text_id: int, lens: Lens
) -> list[Annotation]:
    """Deleted first notes in the lens with an answer the viewer may see (which has the
    note's audience: whoever sees the answer could see the note)."""
    note = _DELETED_NOTE
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
