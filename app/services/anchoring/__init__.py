"""Describe a span of a text with W3C selectors, and find it again after the wording changes.

An annotation remembers its span twice, as the W3C Web Annotation model suggests: a
TextQuoteSelector (the exact words plus up to 32 characters either side) and a
TextPositionSelector (offsets in the canonical content, paragraphs joined by a blank line).
Offsets count Python characters (code points); a browser counting UTF-16 units must convert.

When a text is re-imported with corrections, `anchor` places each annotation on the new content,
trying in turn (the scheme of Hypothesis's client, ``src/annotator/anchoring/match-quote.ts``):

1. "position": the stored offsets still hold the exact quote *and* its stored context. The
   context check is stricter than Hypothesis's: after an edit, a short quote such as "the" can
   land on the old offsets by coincidence, inside a different sentence. When it fails, step 2
   still prefers the old offsets among equally well supported occurrences, so nothing is lost.
2. "quote": the exact quote occurs; among its occurrences take the one whose surroundings best
   match the stored prefix and suffix, then the one nearest the old offset, then the first.
   Like Hypothesis, any exact occurrence is accepted: a short phrase whose paragraph was deleted
   moves to the same phrase elsewhere rather than becoming an orphan.
3. "fuzzy": the quote itself was edited (an OCR fix, a paragraph split). Find approximate
   matches allowing up to ``min(256, len(exact) // 2)`` edits, score each like Hypothesis's
   ``matchQuote`` (quote similarity 50, prefix 20, suffix 20, nearness to the old offset 2,
   divided by 92) and accept the best only if it scores at least `MIN_FUZZY_SCORE`.
4. None: the words are gone; the caller keeps the annotation as an orphan.

Approximate matching. Neither an extra dependency nor a full scan: ``diff-match-patch``'s
``match_main`` is a pure-Python Bitap that returns one start offset (no end, no error count to
score) and is tuned by a distance/threshold pair unrelated to this scoring; ``regex`` fuzzy
matching can take exponential time on long patterns. Here a scan of the whole content in pure
Python would cost about 1.3 µs per character (130 ms for 100 KB), so the search filters, then
verifies, as approx-string-match's own notes recommend:

* filter: cut the stored prefix + exact + suffix into 8-character pieces, find each piece with
  ``str.find`` (C speed) and let every hit vote for where the quote would start; pieces with
  more than 16 hits say nothing and are skipped. The best-supported clusters of votes (at most
  4), the old offset and, for a content under 4,096 characters, the whole content, are the
  candidate regions.
* verify: Myers' bit-parallel edit-distance algorithm (1999) on Python integers, one pass per
  region of about ``len(exact) + 2 * errors`` characters, gives the least-error match ends; a
  second, anchored pass on the reversed text finds each start. A quote longer than 128
  characters is located by its first and last 64 characters (the "keys"), then its full edit
  distance is computed with common prefix/suffix stripping and divide-and-conquer on shared
  32-character pieces, so a long quote never costs a quadratic pass.

Measured (CPython 3.11, a shared two-core machine) on 100 KB of content, the seed text inside
90 KB of other English prose: position hit ~1 µs; exact quote ~0.03 ms (2 ms for " the ", which
occurs ~1,100 times); fuzzy on 13 characters ~0.5 ms, 46 characters ~1 ms, 300 characters ~2 ms,
a 1.8 KB paragraph with three OCR fixes ~2.5 ms, 4 KB ~5 ms, 8 KB ~8 ms; a quote from deleted
text (which must come back None) 0.6-5.5 ms. The tests check that the approximate search feeds
fewer than 15,000 of the 100,000 characters to Myers' algorithm.
"""

from __future__ import annotations

import heapq

from app.services.anchoring.distance import occurrences, similarity
from app.services.anchoring.fuzzy import MIN_FUZZY_SCORE, fuzzy_match
from app.services.anchoring.selectors import Anchor, Method, PositionSelector, QuoteSelector

__all__ = [
    "CONTEXT_LENGTH",
    "MIN_FUZZY_SCORE",
    "Anchor",
    "Method",
    "PositionSelector",
    "QuoteSelector",
    "anchor",
    "describe",
]

CONTEXT_LENGTH = 32
# Of any prefix or suffix it is given, anchoring reads only the characters nearest the quote:
# context scores compare it character by character, and a client's 300,000-character prefix
# would otherwise cost a quadratic pass (seconds of a worker). Twice what Scholia stores.
CONTEXT_READ = 2 * CONTEXT_LENGTH
_MAX_SCORED_OCCURRENCES = 32  # exact occurrences scored by approximate context similarity
_NEAR_CONTEXT = 4


def describe(
    content: str, start: int, end: int, context: int = CONTEXT_LENGTH
) -> tuple[QuoteSelector, PositionSelector]:
    """Both selectors for ``content[start:end]``; context stops at the content's edges."""
    if context < 0:
        raise ValueError(f"context must be 0 or more characters, not {context}")
    if not 0 <= start < end <= len(content):
        raise ValueError(
            f"cannot describe span [{start}, {end}) of a {len(content)}-character text: "
            f"need 0 <= start < end <= {len(content)}"
        )
    quote = QuoteSelector(
        exact=content[start:end],
        prefix=content[max(0, start - context) : start],
        suffix=content[end : end + context],
    )
    return quote, PositionSelector(start, end)


def anchor(
    content: str, quote: QuoteSelector, position: PositionSelector | None = None
) -> Anchor | None:
    """Place an annotation on ``content``; None means its words are gone (an orphan).

    The work grows with the content and the quote, never with the context it is given.
    """
    exact = quote.exact
    if not exact:
        return None
    quote = QuoteSelector(exact, quote.prefix[-CONTEXT_READ:], quote.suffix[:CONTEXT_READ])
    if position is not None and _position_holds(content, quote, position):
        return Anchor(position.start, position.end, "position")
    hint = None if position is None else min(max(position.start, 0), len(content))
    start = _best_occurrence(content, quote, hint)
    if start is not None:
        return Anchor(start, start + len(exact), "quote")
    found = fuzzy_match(content, quote, hint)
    if found is not None:
        return Anchor(found[0], found[1], "fuzzy")
    return None


# Step 1 and 2: exact words.


def _position_holds(content: str, quote: QuoteSelector, position: PositionSelector) -> bool:
    start, end = position.start, position.end
    if not 0 <= start < end <= len(content) or content[start:end] != quote.exact:
        return False
    before = content[max(0, start - len(quote.prefix)) : start]
    return before == quote.prefix and content[end : end + len(quote.suffix)] == quote.suffix


def _best_occurrence(content: str, quote: QuoteSelector, hint: int | None) -> int | None:
    """The exact occurrence best supported by context, then nearest the hint, then first."""
    hits = occurrences(content, quote.exact)
    if len(hits) <= 1:
        return hits[0] if hits else None
    length = len(quote.exact)

    def distance(start: int) -> int:
        return abs(start - hint) if hint is not None else start

    if len(hits) > _MAX_SCORED_OCCURRENCES:
        # Scoring context costs ~50 µs an occurrence; for a common word keep those whose nearest
        # stored context characters still touch them (found at C speed), then the nearest.
        before, after = quote.prefix[-_NEAR_CONTEXT:], quote.suffix[:_NEAR_CONTEXT]
        touching = {at + len(before) for at in occurrences(content, before + quote.exact)}
        touching.update(occurrences(content, quote.exact + after))
        hits = sorted(
            set(heapq.nsmallest(_MAX_SCORED_OCCURRENCES, touching, key=distance))
            | set(heapq.nsmallest(2, hits, key=distance))
        )
    return max(
        hits,
        key=lambda s: (_context_score(content, quote, s, s + length), -distance(s)),
    )


def _context_score(content: str, quote: QuoteSelector, start: int, end: int) -> float:
    before = content[max(0, start - len(quote.prefix)) : start]
    after = content[end : end + len(quote.suffix)]
    return similarity(before[::-1], quote.prefix[::-1]) + similarity(after, quote.suffix)
