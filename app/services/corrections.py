"""Suggested corrections of a text's words: suggest, accept (a new revision), decline.

A suggestion is an annotation with motivation ``editing`` on the words it would change, with a
``Suggestion`` row holding the replacement and what became of it; others discuss it with
replies like any note. Accepting it makes a new revision of the text in one transaction: the
current paragraphs with the span replaced, every annotation re-anchored onto it
(``annotations.reanchor``), the suggestion marked accepted. Who decides is the access policy's
``Action.DECIDE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import begin_write
from app.models import (
    Annotation,
    EventKind,
    Motivation,
    Paragraph,
    ReadingAssignment,
    SuggestionStatus,
    Text,
    TextRevision,
    Visibility,
)
from app.models.base import utcnow
from app.models.text import PARAGRAPH_SEPARATOR, paragraph_at
from app.services import annotations, live, revision_cache
from app.services.access import Action, Viewer, can
from app.services.annotations.rules import SUGGESTION_SHARED
from app.services.annotations.spans import Edit
from app.services.annotations.writing import thread_locked
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from app.services.importer import ParsedText

# A correction is a few words, a line at most: a longer change is a new import of the text.
MAX_REPLACEMENT_CHARS = 2_000

DECIDERS = (
    "Only an instructor of a group that reads this text, or a site administrator, accepts or "
    "declines a suggestion."
)


# Embeddings, overrides and isolates (Unicode's explicit directional formatting): unseen in
# the suggestion, once accepted one turns the rest of its paragraph around for every reader.
DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def check_replacement(raw: str) -> str:
    """The replacement as it will stand in the paragraph: one line (a paragraph of the text is
    one), no paragraph breaks. Empty means: delete the words."""
    replacement = raw.replace("\r\n", "\n").replace("\r", "\n")
    if DIRECTION_CONTROLS.search(replacement):
        raise Invalid(
            "A correction cannot hold invisible direction controls (embeddings, overrides, "
            "isolates: U+202A–U+202E, U+2066–U+2069): write the words themselves."
        )
    if PARAGRAPH_SEPARATOR in replacement:
        raise Invalid(
            "A correction cannot start a new paragraph (it holds a blank line): suggest the "
            "words within one paragraph."
        )
    if len(replacement) > MAX_REPLACEMENT_CHARS:
        raise TooLarge(
            f"A correction may have at most {MAX_REPLACEMENT_CHARS:,} characters (this one has "
            f"{len(replacement):,}): a longer change is a new version of the text."
        )
    return replacement.replace("\n", " ")


def suggest(session: Session, viewer: Viewer, draft: annotations.Draft) -> Annotation:
    """Store a suggestion: ``draft`` with motivation EDITING, its words (``body``) the reason,
    ``replacement`` what would take the place of the words ``target`` names. The caller
    commits (a refusal raised after ``create`` is rolled back with the rest).

    It is for others to see and decide on, so it is shared with a group or public: a private
    one nobody who decides could ever read."""
    replacement = check_replacement(draft.replacement or "")
    if draft.visibility is Visibility.PRIVATE:
        raise Invalid(SUGGESTION_SHARED)
    if draft.target is None:
        raise Invalid("A suggested correction is on words of the text: select them.")
    draft.motivation, draft.replacement = Motivation.EDITING, replacement
    annotation = annotations.create(session, viewer, draft)
    layout = revision_cache.layout(session, annotation.revision)
    paragraph = paragraph_at(layout.spans, annotation.start)
    if annotation.end > paragraph.end:
        raise Invalid("A correction stays within one paragraph: select words of one paragraph.")
    body = paragraph.paragraph.body
    offset = annotation.start - paragraph.start
    if corrected(body, offset, offset + len(annotation.exact), replacement).split() == body.split():
        raise Invalid(
            "The suggestion is the same as the words it would correct: it changes no word "
            "(spaces and line breaks aside)."
        )
    if not replacement.strip() and annotation.exact == body:
        raise Invalid("Deleting a whole paragraph is not a correction.")
    return annotation


def corrected(body: str, start: int, end: int, replacement: str) -> str:
    """A paragraph's words with [start, end) (offsets in the paragraph) replaced."""
    return body[:start] + replacement + body[end:]


@dataclass
class Accepted:
    """What accepting made: the revision, how the annotations moved, and the notes whose words
    are gone (those the accepter may see)."""

    annotation: Annotation
    revision: TextRevision
    anchoring: dict[str, int] = field(default_factory=dict)
    orphans: list[Annotation] = field(default_factory=list)


def reading_groups(session: Session, text_id: int) -> set[int]:
    """The groups with the text on their reading list: their instructors decide."""
    return set(
        session.scalars(
            select(ReadingAssignment.group_id).where(ReadingAssignment.text_id == text_id)
        )
    )


def may_decide(session: Session, viewer: Viewer, annotation: Annotation) -> bool:
    if annotation.motivation is not Motivation.EDITING:
        return False
    return can(viewer, Action.DECIDE, annotation, reading_groups(session, annotation.text_id))


def _decidable(session: Session, viewer: Viewer, annotation_id: int) -> Annotation:
    """The suggestion, locked for the decision (its text's row too: one revision at a time),
    if the viewer may decide it and it is still open."""
    begin_write(session)
    found = session.get(Annotation, annotation_id)
    if found is None:
        raise NotFound()
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # The text first, then the thread: an accept re-anchors every note of the text, so two
        # at once would otherwise each hold a note the other must move (SQLite's write lock
        # already makes them take turns).
        session.get(Text, found.text_id, with_for_update=True, populate_existing=True)
    annotation = thread_locked(session, annotation_id)  # read again, as it is now
    if annotation is None or not can(viewer, Action.VIEW, annotation):
        raise NotFound()
    if annotation.suggestion is None:
        raise Invalid("This annotation is not a suggested correction.")
    if postgresql:
        session.refresh(annotation.suggestion)
    if annotation.is_hidden:
        raise Conflict(
            "This suggestion is hidden by a moderator: it is decided on only once shown again."
        )
    if not may_decide(session, viewer, annotation):
        raise Forbidden(DECIDERS)
    suggestion = annotation.suggestion
    if suggestion.status is SuggestionStatus.ACCEPTED:
        number = suggestion.revision.number if suggestion.revision else "?"
        raise Conflict(f"This suggestion was already accepted: revision {number} made it.")
    if suggestion.status is SuggestionStatus.DECLINED:
        raise Conflict("This suggestion was already declined.")
    return annotation


def summary_of(annotation: Annotation) -> str:
    """Why the revision was made, for everyone who reads the text: the suggester is named only
    when the suggestion is public (a group's notes, and who wrote them, are the group's)."""
    suggestion = annotation.suggestion
    change = f"‘{suggestion.original}’ → ‘{suggestion.replacement}’"
    if annotation.visibility is Visibility.PUBLIC:
        return f"Accepted suggestion by {annotation.user.display_name}: {change}"[:2_000]
    return f"Accepted a suggested correction: {change}"[:2_000]


def accept(session: Session, viewer: Viewer, annotation_id: int) -> Accepted:
    """Make the suggestion's revision and move every annotation onto it, in one transaction
    (the caller commits)."""
    annotation = _decidable(session, viewer, annotation_id)
    suggestion = annotation.suggestion
    text = annotation.text
    current = text.current_revision
    content = current.content
    if (
        annotation.revision_id != current.id
        or annotation.start is None
        or content[annotation.start : annotation.end] != suggestion.original
    ):
        raise Conflict(
            f"The text changed under this suggestion: the words ‘{suggestion.original[:200]}’ "
            "are no longer where it was made. Suggest the correction again on the text as it "
            "is now."
        )
    spans = current.spans()
    where = paragraph_at(spans, annotation.start)
    if annotation.end > where.end:
        raise Conflict("A correction stays within one paragraph; this one crosses a break.")
    new_body = corrected(
        where.paragraph.body,
        annotation.start - where.start,
        annotation.end - where.start,
        suggestion.replacement,
    )
    if not new_body.strip():
        raise Conflict(f"Accepting this would leave ¶{where.paragraph.number} empty.")
    paragraphs = [
        (p.role, new_body if p.number == where.paragraph.number else p.body)
        for p in current.paragraphs
    ]
    parsed = ParsedText(text.title, text.author, text.citation, text.slug, paragraphs)
    already = {a.id for a in _orphans(session, text.id)}
    revision = TextRevision(
        number=max(r.number for r in text.revisions) + 1,
        content_hash=parsed.content_hash(),
        created_by_id=viewer.id,
        summary=summary_of(annotation),
    )
    revision.paragraphs = [
        Paragraph(number=n, role=role, body=words) for n, (role, words) in enumerate(paragraphs, 1)
    ]
    text.revisions.append(revision)
    session.flush()
    text.current_revision = revision
    session.flush()
    edit = Edit(current.id, annotation.start, annotation.end, len(suggestion.replacement))
    moved = annotations.reanchor(session, text, revision, edit)
    suggestion.status = SuggestionStatus.ACCEPTED
    suggestion.decided_by_id, suggestion.decided_at = viewer.id, utcnow()
    suggestion.revision = revision
    session.flush()
    live.record(session, annotation, EventKind.UPDATED, viewer.id)
    # Those the accepter may see; the suggestion itself, when it deleted its words, is no news.
    already.add(annotation.id)
    orphans = [
        a for a in _orphans(session, text.id) if a.id not in already and can(viewer, Action.VIEW, a)
    ]
    return Accepted(annotation, revision, moved, orphans)


def decline(session: Session, viewer: Viewer, annotation_id: int) -> Annotation:
    """Mark the suggestion declined; it stays, with its discussion. The caller commits."""
    annotation = _decidable(session, viewer, annotation_id)
    suggestion = annotation.suggestion
    suggestion.status = SuggestionStatus.DECLINED
    suggestion.decided_by_id, suggestion.decided_at = viewer.id, utcnow()
    session.flush()
    live.record(session, annotation, EventKind.UPDATED, viewer.id)
    return annotation


def _orphans(session: Session, text_id: int) -> list[Annotation]:
    return list(
        session.scalars(
            select(Annotation).where(
                Annotation.text_id == text_id,
                Annotation.exact.is_not(None),
                Annotation.start.is_(None),
                Annotation.deleted_at.is_(None),
            )
        )
    )
