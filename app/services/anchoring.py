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
from dataclasses import dataclass
from typing import Literal

Method = Literal["position", "quote", "fuzzy"]

CONTEXT_LENGTH = 32
# Of any prefix or suffix it is given, anchoring reads only the characters nearest the quote:
# context scores compare it character by character, and a client's 300,000-character prefix
# would otherwise cost a quadratic pass (seconds of a worker). Twice what Scholia stores.
CONTEXT_READ = 2 * CONTEXT_LENGTH
# The best fuzzy candidate must score at least this (0..1). Calibrated on the seed text with 3,000
# random trials each way: quotes from a deleted sentence or paragraph scored at most 0.74 (most
# 0.4-0.6); quotes with up to 30% of their characters edited, context intact, at least 0.78; one
# corrected character in 13 scores 0.96.
MIN_FUZZY_SCORE = 0.75

_QUOTE_WEIGHT, _PREFIX_WEIGHT, _SUFFIX_WEIGHT, _POSITION_WEIGHT = 50, 20, 20, 2
_MAX_ERRORS = 256  # Hypothesis: Math.min(256, quote.length / 2)
_PIECE = 8  # length of the pieces whose exact hits suggest where to look
_MAX_PIECES = 24
_MAX_HITS = 16  # a piece found more often than this is too common to say anything
_MAX_WINDOWS = 4  # best-supported clusters of votes to verify
_MIN_SUPPORT_RATIO = 4  # ...if they have at least a quarter of the best cluster's votes
_SCAN_ALL = 4096  # contents this short are also searched whole
_LONG_QUOTE = 128  # longer quotes are located by their first and last _KEY characters
_KEY = 64
_MAX_SCORED_OCCURRENCES = 32  # exact occurrences scored by approximate context similarity
_NEAR_CONTEXT = 4
_MAX_TIES = 8  # equally good match ends (or starts) kept per region
_DIRECT_DISTANCE = 1024  # longer differing middles are split before Myers' algorithm
_SPLIT_PIECE = 32


@dataclass(frozen=True)
class QuoteSelector:
    """The exact words and what surrounded them; survives any edit that leaves the words."""

    exact: str
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class PositionSelector:
    """[start, end) offsets in the canonical content: cheap to check, stale after any edit."""

    start: int
    end: int


@dataclass(frozen=True)
class Anchor:
    """Where an annotation sits now, and which step found it: a fuzzy one merits a reader's look."""

    start: int
    end: int
    method: Method


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
    found = _fuzzy_match(content, quote, hint)
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


def _occurrences(content: str, needle: str) -> list[int]:
    hits, at = [], content.find(needle)
    while at != -1:
        hits.append(at)
        at = content.find(needle, at + 1)
    return hits


def _best_occurrence(content: str, quote: QuoteSelector, hint: int | None) -> int | None:
    """The exact occurrence best supported by context, then nearest the hint, then first."""
    hits = _occurrences(content, quote.exact)
    if len(hits) <= 1:
        return hits[0] if hits else None
    length = len(quote.exact)

    def distance(start: int) -> int:
        return abs(start - hint) if hint is not None else start

    if len(hits) > _MAX_SCORED_OCCURRENCES:
        # Scoring context costs ~50 µs an occurrence; for a common word keep those whose nearest
        # stored context characters still touch them (found at C speed), then the nearest.
        before, after = quote.prefix[-_NEAR_CONTEXT:], quote.suffix[:_NEAR_CONTEXT]
        touching = {at + len(before) for at in _occurrences(content, before + quote.exact)}
        touching.update(_occurrences(content, quote.exact + after))
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
    return _similarity(before[::-1], quote.prefix[::-1]) + _similarity(after, quote.suffix)


def _similarity(actual: str, stored: str) -> float:
    """1 - (fewest edits turning ``stored`` into a start of ``actual``) / its length.

    Hypothesis's textMatchScore lets the stored context match anywhere in the window; here it
    must begin at the quote's edge (prefixes are compared reversed), so the score also tells
    which of two equally good boundaries a person would choose.
    """
    if not stored or actual == stored:
        return 1.0
    if not actual:
        return 0.0
    return 1.0 - min(_myers(stored, actual, anchored=True)) / len(stored)


# Step 3: approximate matching.


def _fuzzy_match(content: str, quote: QuoteSelector, hint: int | None) -> tuple[int, int] | None:
    exact = quote.exact
    max_errors = min(_MAX_ERRORS, len(exact) // 2)
    if max_errors == 0 or not content:
        return None
    # (start, end) -> (errors, whether exact or only a lower bound still to be computed)
    candidates: dict[tuple[int, int], tuple[int, bool]] = {}
    for low, high in _candidate_regions(content, quote, hint, max_errors):
        if len(exact) <= _LONG_QUOTE:
            candidates.update(_locate_whole(content, exact, low, high, max_errors))
        else:
            candidates.update(_locate_by_keys(content, exact, low, high, max_errors))
    ranked = []
    for (start, end), (errors, known) in candidates.items():
        if errors <= max_errors:
            surroundings = _surroundings_score(content, quote, start, end, hint)
            ranked.append(
                (_total_score(exact, errors, surroundings), start, end, known, surroundings)
            )
    # Best first by optimistic score; a long quote's full edit distance is only computed while
    # a candidate could still win, which skips the near-duplicate boundaries of the winner.
    ranked.sort(key=lambda c: (-c[0], c[1], c[2]))
    best: tuple[float, int, int] | None = None
    for optimistic, start, end, known, surroundings in ranked:
        if best is not None and optimistic <= best[0]:
            break
        score = optimistic
        if not known:
            errors = _edit_distance(exact, content[start:end])
            if errors > max_errors:
                continue
            score = _total_score(exact, errors, surroundings)
        if best is None or score > best[0]:
            best = (score, start, end)
    if best is None or best[0] < MIN_FUZZY_SCORE:
        return None
    return best[1], best[2]


def _surroundings_score(
    content: str, quote: QuoteSelector, start: int, end: int, hint: int | None
) -> float:
    """Weighted prefix, suffix and position parts of Hypothesis's matchQuote score."""
    before = content[max(0, start - len(quote.prefix)) : start]
    prefix_score = _similarity(before[::-1], quote.prefix[::-1])
    suffix_score = _similarity(content[end : end + len(quote.suffix)], quote.suffix)
    position_score = 1.0 if hint is None else 1.0 - abs(start - hint) / max(1, len(content))
    return (
        _PREFIX_WEIGHT * prefix_score
        + _SUFFIX_WEIGHT * suffix_score
        + _POSITION_WEIGHT * position_score
    )


def _total_score(exact: str, errors: int, surroundings: float) -> float:
    """Hypothesis's matchQuote score, 0..1: quote similarity 50, prefix 20, suffix 20, place 2."""
    quote_score = 1.0 - errors / len(exact)
    total_weight = _QUOTE_WEIGHT + _PREFIX_WEIGHT + _SUFFIX_WEIGHT + _POSITION_WEIGHT
    return (_QUOTE_WEIGHT * quote_score + surroundings) / total_weight


def _candidate_regions(
    content: str, quote: QuoteSelector, hint: int | None, max_errors: int
) -> list[tuple[int, int]]:
    """Ranges of likely quote starts: clusters of exact piece hits, the hint, a short whole."""
    extended = quote.prefix + quote.exact + quote.suffix
    shift = len(quote.prefix)
    offsets = list(range(0, len(extended) - _PIECE + 1, _PIECE))
    if len(offsets) > _MAX_PIECES:
        step = len(offsets) / _MAX_PIECES
        offsets = [offsets[int(i * step)] for i in range(_MAX_PIECES)]
    votes: list[tuple[int, int]] = []
    for piece_id, offset in enumerate(offsets):
        hits: list[int] = []
        piece = extended[offset : offset + _PIECE]
        at = content.find(piece)
        while at != -1 and len(hits) <= _MAX_HITS:
            hits.append(at)
            at = content.find(piece, at + 1)
        if len(hits) <= _MAX_HITS:
            votes.extend((hit - offset + shift, piece_id) for hit in hits)
    votes.sort()
    tolerance = max(_PIECE, max_errors)
    clusters: list[tuple[int, int, int]] = []  # (support, first start, last start)
    i = 0
    while i < len(votes):
        first, j, pieces = votes[i][0], i, set()
        while j < len(votes) and votes[j][0] - first <= tolerance:
            pieces.add(votes[j][1])
            j += 1
        clusters.append((len(pieces), first, votes[j - 1][0]))
        i = j
    clusters.sort(key=lambda c: (-c[0], abs(c[1] - hint) if hint is not None else c[1]))
    # A long quote's true cluster gathers dozens of votes; stray single hits elsewhere are noise.
    floor = clusters[0][0] / _MIN_SUPPORT_RATIO if clusters else 0
    regions = [(low, high) for support, low, high in clusters[:_MAX_WINDOWS] if support >= floor]
    if hint is not None and not any(
        low - max_errors <= hint <= high + max_errors for low, high in regions
    ):
        regions.append((hint, hint))
    if len(content) <= _SCAN_ALL:
        regions.append((0, len(content)))
    return regions


def _locate_whole(
    content: str, exact: str, low: int, high: int, max_errors: int
) -> dict[tuple[int, int], tuple[int, bool]]:
    """Least-error matches of a short quote starting around [low, high], every boundary kept."""
    region_start = max(0, low - max_errors - _PIECE)
    region_end = min(len(content), high + len(exact) + max_errors + _PIECE)
    found: dict[tuple[int, int], tuple[int, bool]] = {}
    expected_end = (low + high) // 2 + len(exact)
    for end, errors in _least_error_ends(
        content, exact, region_start, region_end, max_errors, expected_end
    ):
        for start in _match_starts(content, exact, end, errors, region_start):
            found[(start, end)] = (errors, True)
    return found


def _locate_by_keys(
    content: str, exact: str, low: int, high: int, max_errors: int
) -> dict[tuple[int, int], tuple[int, bool]]:
    """A long quote's start from its first _KEY characters, its end from its last.

    The errors recorded are a lower bound (the difference in length); `_fuzzy_match` computes
    the full distance only for candidates that could still win.
    """
    head, tail, key_errors = exact[:_KEY], exact[-_KEY:], _KEY // 2
    region_start = max(0, low - max_errors - _PIECE)
    region_end = min(len(content), high + _KEY + max_errors + _PIECE)
    starts = {
        start
        for end, errors in _least_error_ends(
            content, head, region_start, region_end, key_errors, (low + high) // 2 + _KEY
        )
        for start in _match_starts(content, head, end, errors, region_start)
    }
    if not starts:
        return {}
    tail_start = max(min(starts), min(starts) + len(exact) - max_errors - _KEY - _PIECE)
    tail_end = min(len(content), max(starts) + len(exact) + max_errors + _PIECE)
    expected_end = (min(starts) + max(starts)) // 2 + len(exact)
    ends = [
        end
        for end, _ in _least_error_ends(
            content, tail, tail_start, tail_end, key_errors, expected_end
        )
    ]
    return {
        (start, end): (abs(end - start - len(exact)), False)
        for start in starts
        for end in ends
        if start < end and abs(end - start - len(exact)) <= max_errors
    }


def _least_error_ends(
    content: str, pattern: str, start: int, end: int, max_errors: int, expected: int
) -> list[tuple[int, int]]:
    """(end offset, errors) of the best matches of pattern in content[start:end].

    A short pattern can tie at hundreds of places; only the _MAX_TIES nearest ``expected``
    are kept, which bounds the candidates to score.
    """
    if start >= end:
        return []
    scores = _myers(pattern, content[start:end], anchored=False)
    least = min(scores)
    if least > max_errors:
        return []
    ends = [start + j + 1 for j, errors in enumerate(scores) if errors == least]
    return [(e, least) for e in heapq.nsmallest(_MAX_TIES, ends, key=lambda e: abs(e - expected))]


def _match_starts(content: str, pattern: str, end: int, errors: int, floor: int) -> list[int]:
    """Starts giving the match that ends at ``end`` its fewest errors (context decides)."""
    low = max(floor, end - len(pattern) - errors)
    reversed_scores = _myers(pattern[::-1], content[low:end][::-1], anchored=True)
    least = min(reversed_scores)
    lengths = [k + 1 for k, e in enumerate(reversed_scores) if e == least]
    nearest = heapq.nsmallest(_MAX_TIES, lengths, key=lambda n: abs(n - len(pattern)))
    return [end - length for length in nearest]


def _myers(pattern: str, text: str, *, anchored: bool) -> list[int]:
    """Edit distances between ``pattern`` and text ending at each position of ``text``.

    Myers' bit-vector algorithm (J. ACM 46(3), 1999), one Python integer per column. With
    ``anchored`` the text must start at its first character (score j = distance of pattern to
    text[:j+1]); otherwise it may start anywhere (approximate search).
    """
    m = len(pattern)
    mask = (1 << m) - 1
    high = 1 << (m - 1)
    carry = 1 if anchored else 0
    peq: dict[str, int] = {}
    for i, char in enumerate(pattern):
        peq[char] = peq.get(char, 0) | (1 << i)
    positive, negative, score = mask, 0, m
    scores: list[int] = []
    for char in text:
        eq = peq.get(char, 0)
        xv = eq | negative
        xh = (((eq & positive) + positive) ^ positive) | eq
        ph = negative | (~(xh | positive) & mask)
        mh = positive & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = ((ph << 1) | carry) & mask
        mh = (mh << 1) & mask
        positive = mh | (~(xv | ph) & mask)
        negative = ph & xv
        scores.append(score)
    return scores


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance; an upper bound (exact when edits are sparse) for long differences.

    Common ends are stripped at C speed; a differing middle longer than _DIRECT_DISTANCE is
    split at a 32-character piece that both share near proportional offsets, so the cost stays
    near linear instead of Myers' len(a) * len(b) / bits.
    """
    same = _common_prefix_length(a, b)
    a, b = a[same:], b[same:]
    same = _common_suffix_length(a, b)
    a, b = a[: len(a) - same], b[: len(b) - same]
    if not a or not b:
        return len(a) + len(b)
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    if len(shorter) <= _DIRECT_DISTANCE:
        return _myers(shorter, longer, anchored=True)[-1]
    band = _MAX_ERRORS + len(longer) - len(shorter)
    middle = len(a) // 2
    for offset in (middle, middle - len(a) // 4, middle + len(a) // 4):
        piece = a[offset : offset + _SPLIT_PIECE]
        expected = offset * len(b) // len(a)
        window = max(0, expected - band)
        hits = [window + hit for hit in _occurrences(b[window : expected + band], piece)]
        if hits:
            at = min(hits, key=lambda hit: abs(hit - expected))
            return _edit_distance(a[:offset], b[:at]) + _edit_distance(a[offset:], b[at:])
    if len(shorter) <= 4 * _DIRECT_DISTANCE:
        return _myers(shorter, longer, anchored=True)[-1]
    return max(len(a), len(b))  # nothing shared where it should be: as good as unrelated


def _common_prefix_length(a: str, b: str) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix_length(a: str, b: str) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle :] == b[len(b) - middle :]:
            low = middle
        else:
            high = middle - 1
    return low
