"""Step 3 of anchoring: find a quote whose words were edited, filtering before verifying.

See the package docstring for the method and its measured cost.
"""

from __future__ import annotations

import heapq

from app.services.anchoring.distance import MAX_ERRORS, edit_distance, myers, similarity
from app.services.anchoring.selectors import QuoteSelector

# The best fuzzy candidate must score at least this (0..1). Calibrated on the seed text with 3,000
# random trials each way: quotes from a deleted sentence or paragraph scored at most 0.74 (most
# 0.4-0.6); quotes with up to 30% of their characters edited, context intact, at least 0.78; one
# corrected character in 13 scores 0.96.
MIN_FUZZY_SCORE = 0.75

_QUOTE_WEIGHT, _PREFIX_WEIGHT, _SUFFIX_WEIGHT, _POSITION_WEIGHT = 50, 20, 20, 2
_PIECE = 8  # length of the pieces whose exact hits suggest where to look
_MAX_PIECES = 24
_MAX_HITS = 16  # a piece found more often than this is too common to say anything
_MAX_WINDOWS = 4  # best-supported clusters of votes to verify
_MIN_SUPPORT_RATIO = 4  # ...if they have at least a quarter of the best cluster's votes
_SCAN_ALL = 4096  # contents this short are also searched whole
_LONG_QUOTE = 128  # longer quotes are located by their first and last _KEY characters
_KEY = 64
_MAX_TIES = 8  # equally good match ends (or starts) kept per region


def fuzzy_match(content: str, quote: QuoteSelector, hint: int | None) -> tuple[int, int] | None:
    exact = quote.exact
    max_errors = min(MAX_ERRORS, len(exact) // 2)
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
            errors = edit_distance(exact, content[start:end])
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
    prefix_score = similarity(before[::-1], quote.prefix[::-1])
    suffix_score = similarity(content[end : end + len(quote.suffix)], quote.suffix)
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

    The errors recorded are a lower bound (the difference in length); `fuzzy_match` computes
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
    scores = myers(pattern, content[start:end], anchored=False)
    least = min(scores)
    if least > max_errors:
        return []
    ends = [start + j + 1 for j, errors in enumerate(scores) if errors == least]
    return [(e, least) for e in heapq.nsmallest(_MAX_TIES, ends, key=lambda e: abs(e - expected))]


def _match_starts(content: str, pattern: str, end: int, errors: int, floor: int) -> list[int]:
    """Starts giving the match that ends at ``end`` its fewest errors (context decides)."""
    low = max(floor, end - len(pattern) - errors)
    reversed_scores = myers(pattern[::-1], content[low:end][::-1], anchored=True)
    least = min(reversed_scores)
    lengths = [k + 1 for k, e in enumerate(reversed_scores) if e == least]
    nearest = heapq.nsmallest(_MAX_TIES, lengths, key=lambda n: abs(n - len(pattern)))
    return [end - length for length in nearest]
