"""Where in a text an annotation sits: selectors checked and resolved, moved onto revisions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import (
    Annotation,
    Motivation,
    SuggestionStatus,
    Text,
    TextRevision,
)
from app.models.text import snap_to_paragraphs
from app.services import anchoring, revision_cache
from app.services.annotations.rules import CONTEXT_CHARS, MAX_CONTEXT_CHARS, MAX_QUOTE_CHARS
from app.services.errors import Invalid, Malformed, TooLarge


@dataclass(frozen=True)
class SpanTarget:
    """What a client says it selected; either part may be missing or stale."""

    exact: str | None = None
    prefix: str = ""
    suffix: str = ""
    start: int | None = None
    end: int | None = None
    # W3C ``refinedBy``: a span described again within the one above (offsets from its start).
    refined_by: SpanTarget | None = None


def resolve_span(layout: revision_cache.Layout, target: SpanTarget) -> tuple[int, int]:
    """Check a client's selectors against the text and return the span they mean, its ends
    moved off the blank lines between paragraphs.

    The quote wins over stale offsets (the text may have been revised since the page loaded),
    but offsets that are out of range, empty, or contradict a quote found nowhere are refused.
    """
    start, end = _span_meant(layout.content, target)
    while target.refined_by is not None:
        target = target.refined_by
        inner_start, inner_end = _span_meant(layout.content[start:end], target)
        start, end = start + inner_start, start + inner_end
    snapped = snap_to_paragraphs(layout.spans, start, end)
    if snapped is None:
        raise Invalid("The selection holds only the space between two paragraphs.")
    return snapped


def _span_meant(content: str, target: SpanTarget) -> tuple[int, int]:
    for name, context in (("prefix", target.prefix), ("suffix", target.suffix)):
        if context and len(context) > MAX_CONTEXT_CHARS:
            raise TooLarge(
                f"The quote's {name} may have at most {MAX_CONTEXT_CHARS:,} characters "
                f"(it has {len(context):,}); {CONTEXT_CHARS} are enough to find it."
            )
    if target.start is not None or target.end is not None:
        start, end = target.start, target.end
        if not _is_offset(start) or not _is_offset(end):
            raise Malformed("TextPositionSelector needs integer start and end.")
        if not 0 <= start < end <= len(content):
            raise Invalid(
                f"The position {start}–{end} is not a non-empty span of this text "
                f"(0–{len(content)})."
            )
        if target.exact is None or content[start:end] == target.exact:
            return start, end
    if target.exact is None:
        raise Malformed("The target needs a TextQuoteSelector or a TextPositionSelector.")
    if not target.exact.strip():
        raise Invalid("The selected quote is empty.")
    if len(target.exact) > MAX_QUOTE_CHARS:
        raise TooLarge(f"The quote may have at most {MAX_QUOTE_CHARS:,} characters.")
    position = (
        anchoring.PositionSelector(target.start, target.end) if target.start is not None else None
    )
    quote = anchoring.QuoteSelector(target.exact, target.prefix or "", target.suffix or "")
    found = anchoring.anchor(content, quote, position)
    if found is None or content[found.start : found.end] != target.exact:
        raise Invalid("The quoted words are not in this text.")
    return found.start, found.end


def same_target(
    layout: revision_cache.Layout, annotation: Annotation, slug: str, target: SpanTarget | None
) -> bool:
    """Whether a target a client sent back is the annotation's own: the same text and the same
    words (its selectors as served, or any that resolve to its span)."""
    if slug != annotation.text.slug:
        return False
    if target is None or annotation.exact is None:
        return target is None and annotation.exact is None
    if target.refined_by is None and target.exact == annotation.exact:
        stored = (annotation.start, annotation.end)
        if target.start is None or (target.start, target.end) == stored:
            return True
    try:
        return resolve_span(layout, target) == (annotation.start, annotation.end)
    except Invalid:
        return False


def _is_offset(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON's false is no 0


def set_span(annotation: Annotation, content: str, start: int, end: int) -> None:
    quote, _ = anchoring.describe(content, start, end, CONTEXT_CHARS)
    annotation.exact, annotation.prefix, annotation.suffix = quote.exact, quote.prefix, quote.suffix
    annotation.start, annotation.end = start, end


@dataclass(frozen=True)
class Edit:
    """What made revision ``new`` out of ``previous``: the words [start, end) of its content
    replaced by ``length`` characters (an accepted suggestion). With it, a note that was on
    ``previous`` is carried over by arithmetic, not found again: one on the replaced words
    (or overlapping them) ends on the words that took their place."""

    previous_id: int
    start: int
    end: int
    length: int

    def carry(self, start: int, end: int) -> tuple[int, int] | None:
        delta = self.length - (self.end - self.start)
        new_start = start if start <= self.start else max(start + delta, self.start)
        if self.start < start < self.end:
            new_start = self.start
        new_end = end if end <= self.start else end + delta
        if self.start < end < self.end:
            new_end = self.start + self.length
        return (new_start, new_end) if new_start < new_end else None


def _elsewhere(annotation: Annotation, content: str, start: int, end: int) -> bool:
    """Whether an open suggestion's words, found again, stand in other surroundings than it
    was made in: the words it was made on gone, the same words further on, accepting it would
    change words its writer never pointed at. It becomes an orphan instead (an accept is then
    refused: the text changed under it)."""
    if annotation.motivation is not Motivation.EDITING:
        return False
    suggestion = annotation.suggestion
    if suggestion is None or suggestion.status is not SuggestionStatus.OPEN:
        return False
    before = content[max(0, start - len(annotation.prefix)) : start]
    return before != annotation.prefix or not content[end:].startswith(annotation.suffix)


def _carry_far(session: Session, text_id: int, new_id: int, edit: Edit) -> dict[str, int]:
    """Carry over, in two UPDATEs, the notes on the edited revision that the edit does not
    reach, their words nor their context (``CONTEXT_CHARS`` each side): those before it as they
    are, those after it shifted by the change in length. Their selectors would read the same:
    on a text with 10,000 notes this keeps an accept's write (SQLite's lock for every writer)
    to a fraction of a second instead of seconds of rewriting each note."""
    on_previous = (
        Annotation.text_id == text_id,
        Annotation.revision_id == edit.previous_id,
        Annotation.start.is_not(None),
        Annotation.exact.is_not(None),
    )
    delta = edit.length - (edit.end - edit.start)
    before = session.execute(
        update(Annotation)
        .where(*on_previous, Annotation.end + CONTEXT_CHARS <= edit.start)
        .values(revision_id=new_id)
    ).rowcount
    after = session.execute(
        update(Annotation)
        .where(*on_previous, Annotation.start >= edit.end + CONTEXT_CHARS)
        .values(revision_id=new_id, start=Annotation.start + delta, end=Annotation.end + delta)
    ).rowcount
    return {"kept": before + (0 if delta else after), "moved": after if delta else 0, "orphaned": 0}


def reanchor(
    session: Session, text: Text, new: TextRevision, edit: Edit | None = None
) -> dict[str, int]:
    """Move every annotation of ``text`` onto revision ``new``; orphans are kept, never lost.

    Runs inside the importer's (or an accepted suggestion's) transaction, so a revision and its
    re-anchored notes appear together or not at all.
    """
    counts = {"kept": 0, "moved": 0, "orphaned": 0}
    if edit is not None:
        counts = _carry_far(session, text.id, new.id, edit)
    content, spans = new.content, new.spans()
    annotations = session.scalars(
        select(Annotation).where(
            Annotation.text_id == text.id,
            Annotation.exact.is_not(None),
            Annotation.revision_id != new.id,  # not those _carry_far carried
        )
    ).all()
    for annotation in annotations:
        if (
            edit is not None
            and annotation.start is not None
            and annotation.revision_id == edit.previous_id
        ):
            # Where the edit put its words; none when they were all deleted: an orphan, not a
            # note moved onto the same words elsewhere.
            carried = edit.carry(annotation.start, annotation.end)
            snapped = carried and snap_to_paragraphs(spans, *carried)
            annotation.revision_id = new.id
            if not snapped:
                annotation.start = annotation.end = None
                counts["orphaned"] += 1
                continue
            counts["kept" if snapped == (annotation.start, annotation.end) else "moved"] += 1
            set_span(annotation, content, *snapped)
            continue
        position = (
            anchoring.PositionSelector(annotation.start, annotation.end)
            if annotation.start is not None
            else None
        )
        quote = anchoring.QuoteSelector(annotation.exact, annotation.prefix, annotation.suffix)
        found = anchoring.anchor(content, quote, position)
        annotation.revision_id = new.id
        snapped = found and snap_to_paragraphs(spans, found.start, found.end)
        if snapped and _elsewhere(annotation, content, *snapped):
            snapped = None
        if not snapped:
            annotation.start = annotation.end = None
            counts["orphaned"] += 1
            continue
        counts["kept" if found.method == "position" else "moved"] += 1
        # The note now belongs to these words; its selectors describe them from here on.
        set_span(annotation, content, *snapped)
    # Notes on the whole text simply follow it.
    session.execute(
        update(Annotation)
        .where(Annotation.text_id == text.id, Annotation.exact.is_(None))
        .values(revision_id=new.id)
    )
    session.flush()
    return counts
