"""The two W3C selectors an annotation keeps, and the anchor found from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Method = Literal["position", "quote", "fuzzy"]


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
