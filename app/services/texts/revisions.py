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
    changes: list[ParagraphChange]  # this page's
    unchanged: int  # paragraphs alike on both sides
    changed: int  # paragraphs that differ, on every page
    page: int = 1
    pages: int = 1


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


# Paragraphs listed on one page of a comparison: each is diffed word by word when shown, so a
# page costs the same whatever the texts (10,000 paragraphs rewritten: 0.1 s a page, where all
# of them at once took 4 s, measured in review on 2 MB).
CHANGES_PER_PAGE = 200
# Past this many paragraphs between the first and last that differ, paragraphs are paired by
# position: difflib's pairing of 5,000 changed among 10,000 took 27 s, of 1,000 among 2,000 1 s.
MAX_ALIGNED = 500


def pair_paragraphs(a: list[str], b: list[str]) -> tuple[list[tuple[int | None, int | None]], int]:
    """The paragraphs that differ, as (index in ``a``, index in ``b``) pairs (None: added or
    removed), in order, and how many are alike. Alike ones at both ends are set aside first;
    the rest are aligned by their words (difflib) when the two runs differ in length and are
    short enough, else by position."""
    n, m = len(a), len(b)
    head = 0
    while head < min(n, m) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(n, m) - head and a[n - 1 - tail] == b[m - 1 - tail]:
        tail += 1
    run_a, run_b = a[head : n - tail], b[head : m - tail]
    if len(run_a) != len(run_b) and max(len(run_a), len(run_b)) <= MAX_ALIGNED:
        matcher = difflib.SequenceMatcher(None, run_a, run_b, autojunk=False)
        blocks = matcher.get_opcodes()
    else:
        common = min(len(run_a), len(run_b))
        blocks = [("replace", 0, common, 0, common)]
        if len(run_a) > common:
            blocks.append(("delete", common, len(run_a), common, common))
        if len(run_b) > common:
            blocks.append(("insert", common, common, common, len(run_b)))
    pairs: list[tuple[int | None, int | None]] = []
    unchanged = head + tail
    for op, i1, i2, j1, j2 in blocks:
        if op == "equal":
            unchanged += i2 - i1
            continue
        paired = min(i2 - i1, j2 - j1)
        for k in range(paired):
            if run_a[i1 + k] == run_b[j1 + k]:
                unchanged += 1
            else:
                pairs.append((head + i1 + k, head + j1 + k))
        pairs.extend((head + i, None) for i in range(i1 + paired, i2))
        pairs.extend((None, head + j) for j in range(j1 + paired, j2))
    return pairs, unchanged


def diff_pair(a: list[str], b: list[str], pair: tuple[int | None, int | None]) -> ParagraphChange:
    i, j = pair
    if j is None:
        return ParagraphChange(i + 1, None, [("delete", a[i])])
    if i is None:
        return ParagraphChange(None, j + 1, [("insert", b[j])])
    return ParagraphChange(i + 1, j + 1, word_diff(a[i], b[j]))


def compare(
    session: Session,
    slug: str,
    old_number: int | None,
    new_number: int | None,
    page: int = 1,
) -> Comparison:
    """The paragraphs that differ between two revisions, ``CHANGES_PER_PAGE`` at a time: paired
    first, then the words of each pair on the page diffed."""
    text = text_with_revisions(session, slug)
    if old_number is None and new_number is None:  # the last change
        new_number = text.current_revision.number
        old_number = max(1, new_number - 1)
    old = revision(text, old_number, "from")
    new = revision(text, new_number, "to")
    a, b = _bodies(session, old.id), _bodies(session, new.id)
    pairs, unchanged = pair_paragraphs(a, b)
    pages = max(1, -(-len(pairs) // CHANGES_PER_PAGE))
    if page > pages:
        raise NotFound(f"This comparison has {pages} page{'s' if pages != 1 else ''}.")
    shown = pairs[(page - 1) * CHANGES_PER_PAGE : page * CHANGES_PER_PAGE]
    changes = [diff_pair(a, b, pair) for pair in shown]
    return Comparison(text, old, new, changes, unchanged, len(pairs), page, pages)
