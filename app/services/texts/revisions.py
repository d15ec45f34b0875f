"""A text's revisions: the history (who made each and why) and a word-level diff of any two.

Texts are in the library for everyone, and so are their revisions: no note is read here.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Paragraph, Text, TextRevision
from app.services.errors import Malformed, NotFound

# Words, runs of punctuation and the whitespace between them (kept, so the two sides join back
# to the text): "Rcichswehr," differs from "Reichswehr," in its word, not its comma.
TOKEN = re.compile(r"\s+|\w+|[^\w\s]+")
# Past this many tokens on either side a paragraph is shown as replaced whole: SequenceMatcher
# is quadratic in the worst case, and a paragraph this long rewritten is not a correction.
MAX_DIFF_TOKENS = 4_000


@dataclass(frozen=True)
class ParagraphChange:
    """One paragraph that differs: its number on each side (None: added or removed) and the
    segments of its words, each ("equal" | "delete" | "insert", words)."""

    old_number: int | None
    new_number: int | None
    segments: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Comparison:
    text: Text
    old: TextRevision
    new: TextRevision
    changes: list[ParagraphChange]
    unchanged: int  # paragraphs alike on both sides


def text_with_revisions(session: Session, slug: str) -> Text:
    text = session.scalar(
        select(Text)
        .where(Text.slug == slug, Text.current_revision_id.is_not(None))
        .options(selectinload(Text.revisions).selectinload(TextRevision.created_by))
    )
    if text is None:
        raise NotFound("There is no text at this address.")
    return text


def revision(text: Text, number: int | None, which: str) -> TextRevision:
    if number is None:
        raise Malformed(f"Say which revision to compare {which} (a number from 1).")
    for candidate in text.revisions:
        if candidate.number == number:
            return candidate
    raise NotFound(
        f"“{text.title}” has no revision {number}: it has {len(text.revisions)} "
        f"revision{'s' if len(text.revisions) != 1 else ''}."
    )


def _bodies(session: Session, revision_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Paragraph.body)
            .where(Paragraph.revision_id == revision_id)
            .order_by(Paragraph.number)
        )
    )


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The words of ``old`` and ``new`` as equal, deleted and inserted runs, whitespace kept."""
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    if len(a) > MAX_DIFF_TOKENS or len(b) > MAX_DIFF_TOKENS:
        return [("delete", old), ("insert", new)]
    segments: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("equal",):
            segments.append(("equal", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            segments.append(("delete", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            segments.append(("insert", "".join(b[j1:j2])))
    return segments


def compare(session: Session, slug: str, old_number: int | None, new_number: int | None):
    """The paragraphs that differ between two revisions: paragraphs paired first (by their
    words), then the words of each pair diffed."""
    text = text_with_revisions(session, slug)
    if old_number is None and new_number is None:  # the last change
        new_number = text.current_revision.number
        old_number = max(1, new_number - 1)
    old = revision(text, old_number, "from")
    new = revision(text, new_number, "to")
    a, b = _bodies(session, old.id), _bodies(session, new.id)
    changes: list[ParagraphChange] = []
    unchanged = 0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            unchanged += i2 - i1
            continue
        paired = min(i2 - i1, j2 - j1)
        for k in range(paired):
            changes.append(ParagraphChange(i1 + k + 1, j1 + k + 1, word_diff(a[i1 + k], b[j1 + k])))
        for i in range(i1 + paired, i2):
            changes.append(ParagraphChange(i + 1, None, [("delete", a[i])]))
        for j in range(j1 + paired, j2):
            changes.append(ParagraphChange(None, j + 1, [("insert", b[j])]))
    return Comparison(text, old, new, changes, unchanged)
