"""A note's Markdown shown as it will be saved, before it is: the same renderer and cleaner as a
saved note's (services/markdown.py), so the preview never promises what the page will not show.

Previews store nothing, so they are not counted in the change log as writes are (quotas.py);
instead each worker process lets an account have PER_MINUTE of them. Behind N workers that is N
times as many: still a bound on how long one account's script keeps the workers rendering, at
no cost to anyone else's request.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from app.services import markdown
from app.services.annotations.rules import check_body
from app.services.errors import QuotaExceeded

PER_MINUTE = 30
_WINDOW = 60.0
_recent: dict[tuple[str, int], deque[float]] = {}
_lock = threading.Lock()


def render(user_id: int, source: str, now: float | None = None) -> str:
    """Safe HTML of ``source``; TooLarge past the note's limit, QuotaExceeded past the rate."""
    source = check_body(source)
    count(user_id, "note", PER_MINUTE, now)
    return markdown.render(source)


def count(
    user_id: int, kind: str, per_minute: int, now: float | None = None, what: str = "previews"
) -> None:
    """Count one preview of ``kind`` (a note's, a text's) for the account in this process;
    QuotaExceeded once it has had ``per_minute`` of them in the last minute (the message says
    ``what`` they were: something else counted here, as a text's details changed)."""
    now = time.monotonic() if now is None else now
    with _lock:
        times = _recent.setdefault((kind, user_id), deque())
        while times and times[0] <= now - _WINDOW:
            times.popleft()
        if len(times) >= per_minute:
            wait = math.ceil(times[0] + _WINDOW - now)
            raise QuotaExceeded(f"Too many {what} at once: try again in {wait} s.", wait)
        times.append(now)
