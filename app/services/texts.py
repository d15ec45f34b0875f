"""Reading the library: which texts there are and what a reading page shows.

The server knows the text and every anchor, so it splits each paragraph at annotation
boundaries itself and the page arrives with its highlights in place: no anchoring work in the
browser, nothing to wait for, and it works without JavaScript.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.models import Annotation, Paragraph, Text, TextRevision
from app.models.text import ParagraphRole, ParagraphSpan
from app.services import annotations as annotation_service
from app.services.access import ANONYMOUS, Viewer


@dataclass(frozen=True)
class LibraryEntry:
    text: Text
    paragraph_count: int


@dataclass(frozen=True)
class Segment:
    """A run of a paragraph's characters covered by the same annotations."""

    text: str
    start: int
    annotations: tuple[Annotation, ...] = ()

    @property
    def top(self) -> Annotation:
        """The innermost annotation (latest start, then shortest), whose colour shows."""
        return max(self.annotations, key=lambda a: (a.start, -a.end, a.id))


@dataclass
class ParagraphView:
    span: ParagraphSpan
    segments: list[Segment] = field(default_factory=list)
    notes: list[Annotation] = field(default_factory=list)  # annotations that start here

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
    """Split a paragraph at every annotation boundary inside it (a sweep, not a nested loop)."""
    body, base = span.paragraph.body, span.start
    cuts = {span.start, span.end}
    for a in covering:
        cuts.add(max(a.start, span.start))
        cuts.add(min(a.end, span.end))
    points = sorted(cuts)
    starting: dict[int, list[Annotation]] = {}
    for a in covering:
        starting.setdefault(max(a.start, span.start), []).append(a)
    active: dict[int, Annotation] = {}
    result = []
    for left, right in itertools.pairwise(points):
        for a in starting.get(left, ()):
            active[a.id] = a
        for key in [k for k, a in active.items() if a.end <= left]:
            del active[key]
        result.append(Segment(body[left - base : right - base], left, tuple(active.values())))
    return result


def reading_view(session: Session, slug: str, viewer: Viewer = ANONYMOUS) -> ReadingView | None:
    """The page's whole content in three queries, however many annotations there are."""
    text = session.scalar(
        select(Text)
        .where(Text.slug == slug)
        .options(joinedload(Text.current_revision).selectinload(TextRevision.paragraphs))
    )
    if text is None or text.current_revision is None:
        return None
    revision = text.current_revision
    spans = revision.spans()
    views = [ParagraphView(s) for s in spans]
    view = ReadingView(text, revision, views)
    found = annotation_service.for_text(session, viewer, text)
    covering: list[list[Annotation]] = [[] for _ in spans]
    starts = [s.start for s in spans]
    for annotation in found:
        if annotation.is_text_note:
            view.text_notes.append(annotation)
            continue
        if annotation.is_orphan:
            view.orphans.append(annotation)
            continue
        first = max(0, bisect.bisect_right(starts, annotation.start) - 1)
        views[first].notes.append(annotation)
        index = first
        while index < len(spans) and spans[index].start < annotation.end:
            if spans[index].end > annotation.start:
                covering[index].append(annotation)
            index += 1
    for paragraph_view, covered in zip(views, covering, strict=True):
        paragraph_view.segments = segments(paragraph_view.span, covered)
    return view
