"""Rendered results kept in this process's memory, keyed on everything they were made from.

Every key carries the text's change-log cursor (``live.latest_id``) besides the viewer, lens and
filters, so an entry cannot go stale: any change to the text's annotations writes an event,
moves the cursor and so makes a new key; the old entry simply ages out. Nothing here is shared
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

    def get_or_make(self, key: Hashable, make: Callable[[], V], size: Callable[[V], int]) -> V:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry[0]  # type: ignore[return-value]
        value = make()  # outside the lock: two threads may both render, both get a right answer
        cost = size(value)
        if cost > self.max_bytes:
            return value
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (value, cost)
                self._size += cost
            while self._size > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._size -= evicted
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._entries)
