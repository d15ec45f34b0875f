"""A paragraph split at every annotation boundary: the server places highlights itself."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

from app.models import (
    Annotation,
    Kind,
)
from app.models.text import ParagraphSpan


@dataclass(frozen=True)
class Segment:
    """A run of a paragraph's characters covered by the same annotations.

    It names the innermost of them and how many there are, never all of them: with thousands of
    nested highlights a list per segment made the page grow with their square. Which notes
    cover a mark follows from the offsets (``start`` here, a note's own on its card).
    """

    text: str
    start: int
    count: int = 0  # annotations covering it
    top: Annotation | None = None  # the innermost (latest start, then shortest): its colour shows
    starting: tuple[int, ...] = ()  # ids of those that begin here: each begins in one segment

    @property
    def label(self) -> str:
        """What a screen reader hears where the highlight begins (the mark's ::before)."""
        if self.count > 1:
            return f"{self.count} annotations"
        if self.top.is_hidden:  # whether it had words is part of them
            return "hidden annotation"
        color = f", {self.top.color.value}" if self.top.color else ""
        if self.top.kind is not Kind.HIGHLIGHT:
            return f"note by {self.top.user.display_name}{color}"
        return f"highlight{color}"

    @property
    def mark_id(self) -> int | None:
        """The annotation whose ``m<id>`` the mark carries: links to a note's words land here.
        The innermost one if it begins here, else the first that does."""
        if not self.starting:
            return None
        return self.top.id if self.top.id in self.starting else self.starting[0]


def segments(span: ParagraphSpan, covering: list[Annotation]) -> list[Segment]:
    """Split a paragraph at every annotation boundary inside it: a sweep with heaps, so the
    work grows with the annotations times their logarithm, however they nest or cross."""
    body, base = span.paragraph.body, span.start
    cuts = {span.start, span.end}
    starting: dict[int, list[Annotation]] = {}
    for a in covering:
        first = max(a.start, span.start)  # one that began in an earlier paragraph begins here
        cuts.add(first)
        cuts.add(min(a.end, span.end))
        starting.setdefault(first, []).append(a)
    # Innermost first: latest start, then shortest, then newest (ids are unique, so the
    # annotations themselves are never compared). Entries of ended annotations linger until
    # they reach the top.
    innermost: list[tuple[int, int, int, Annotation]] = []
    ending: list[tuple[int, int]] = []  # (end, id)
    open_ids: set[int] = set()
    result = []
    for left, right in itertools.pairwise(sorted(cuts)):
        for a in starting.get(left, ()):
            open_ids.add(a.id)
            heapq.heappush(innermost, (-a.start, a.end, -a.id, a))
            heapq.heappush(ending, (a.end, a.id))
        while ending and ending[0][0] <= left:
            open_ids.discard(heapq.heappop(ending)[1])
        while innermost and -innermost[0][2] not in open_ids:
            heapq.heappop(innermost)
        text = body[left - base : right - base]
        if not open_ids:
            result.append(Segment(text, left))
            continue
        here = tuple(a.id for a in starting.get(left, ()) if a.start == left)
        result.append(Segment(text, left, len(open_ids), innermost[0][3], here))
    return result
