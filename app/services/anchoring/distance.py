"""Edit distances on Python integers: Myers' bit-parallel algorithm and what is built on it.

No dependency does this for us: ``diff-match-patch`` returns only a start offset, ``regex``
fuzzy matching can take exponential time on long patterns (see the package docstring).
"""

from __future__ import annotations

MAX_ERRORS = 256  # Hypothesis: Math.min(256, quote.length / 2)
_DIRECT_DISTANCE = 1024  # longer differing middles are split before Myers' algorithm
_SPLIT_PIECE = 32


def myers(pattern: str, text: str, *, anchored: bool) -> list[int]:
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


def edit_distance(a: str, b: str) -> int:
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
        return myers(shorter, longer, anchored=True)[-1]
    band = MAX_ERRORS + len(longer) - len(shorter)
    middle = len(a) // 2
    for offset in (middle, middle - len(a) // 4, middle + len(a) // 4):
        piece = a[offset : offset + _SPLIT_PIECE]
        expected = offset * len(b) // len(a)
        window = max(0, expected - band)
        hits = [window + hit for hit in occurrences(b[window : expected + band], piece)]
        if hits:
            at = min(hits, key=lambda hit: abs(hit - expected))
            return edit_distance(a[:offset], b[:at]) + edit_distance(a[offset:], b[at:])
    if len(shorter) <= 4 * _DIRECT_DISTANCE:
        return myers(shorter, longer, anchored=True)[-1]
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


def similarity(actual: str, stored: str) -> float:
    """1 - (fewest edits turning ``stored`` into a start of ``actual``) / its length.

    Hypothesis's textMatchScore lets the stored context match anywhere in the window; here it
    must begin at the quote's edge (prefixes are compared reversed), so the score also tells
    which of two equally good boundaries a person would choose.
    """
    if not stored or actual == stored:
        return 1.0
    if not actual:
        return 0.0
    return 1.0 - min(myers(stored, actual, anchored=True)) / len(stored)


def occurrences(content: str, needle: str) -> list[int]:
    hits, at = [], content.find(needle)
    while at != -1:
        hits.append(at)
        at = content.find(needle, at + 1)
    return hits
