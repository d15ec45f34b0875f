"""Rendered results kept in this process's memory, keyed on everything they were made from.

Every key carries a position in the text's change log besides what else the value was made
from (the viewer or their audience, lens, filters): a whole page the text's cursor
(``live.latest_id``), a part of a page that part's version for its audience
(``live.part_versions``). So an entry cannot go stale: a change to the text's annotations writes
an event, which moves the positions it concerns and so makes new keys; old entries age out.
Events are never deleted but with their text, so a position never moves back. Nothing here is shared
between workers or servers and nothing depends on it being warm, so app servers stay
stateless: a cold cache is slower, never wrong.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

V = TypeVar("V")


class RenderCache:
    """A least-recently-used map bounded by the total size of its values (in bytes, roughly)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # gunicorn may run threaded workers

    def get(self, key: Hashable):
        """The value stored under ``key``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: object, cost: int) -> None:
        if cost > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, cost)
            self._size += cost
            while self._size > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._size -= evicted

    def get_or_make(self, key: Hashable, make: Callable[[], V], size: Callable[[V], int]) -> V:
        value = self.get(key)
        if value is None:
            # Outside the lock: two threads may both render; both get a right answer.
            value = make()
            self.put(key, value, size(value))
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._entries)
