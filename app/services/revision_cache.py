"""Each text revision's content and paragraph offsets, built once per worker process.

A revision's paragraphs never change once stored (a re-import with other words adds a new
revision), so the canonical content and the offsets of its paragraphs, which every new
annotation is checked against and every single-annotation answer places in a paragraph, need
not be rebuilt from the paragraph rows on each request.

Entries are keyed on the revision's id *and* its content hash (SHA-256 of its title, author,
citation and paragraphs): an id can come back (SQLite hands out the highest rowid again after
that row is deleted, as when a text is deleted and another imported), a hash cannot name other
words. Like the render cache, nothing depends on an entry being present: a cold cache costs one
query, and nothing is shared between workers or app servers.

Kept under the rule that only SQLAlchemy's public API is used (issue 15): it is plain rows
turned into transient ``Paragraph`` objects by their constructor, and removing it costs more
than a third of the create figure. Measured in-process on the bench's small dataset, 5 runs
of 100 creates through the API: 3.8 ms a create with the cache, 5.4 ms reading the
paragraphs each time (+42%); the reading page and single-annotation answers use it too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app.models import Paragraph, TextRevision
from app.models.text import PARAGRAPH_SEPARATOR, ParagraphSpan, spans_of

# Characters of content kept per process (the Carr excerpt is 20,000): a few hundred texts.
MAX_CHARS = 8_000_000


@dataclass(frozen=True)
class Layout:
    """What ``TextRevision.content`` and ``.spans()`` give, from a cache.

    The spans' paragraphs are detached copies (id, number, role and body), belonging to no
    session: read them, never change or add them.
    """

    content: str
    spans: list[ParagraphSpan]


_entries: OrderedDict[tuple[int, str], Layout] = OrderedDict()
_chars = 0
_lock = threading.Lock()  # gunicorn may run threaded workers


def layout(session: Session, revision: TextRevision) -> Layout:
    """The revision's content and paragraph spans: from this process's cache, or one query."""
    return layout_of(session, revision.id, revision.content_hash)


def layout_of(session: Session, revision_id: int, content_hash: str) -> Layout:
    """``layout`` of the revision with this id and content hash; LookupError if there is none
    (nothing is kept for it)."""
    global _chars
    key = (revision_id, content_hash)
    with _lock:
        found = _entries.get(key)
        if found is not None:
            _entries.move_to_end(key)
            return found
    made = build(session, revision_id)
    with _lock:
        if key not in _entries:
            _entries[key] = made
            _chars += len(made.content)
        while _chars > MAX_CHARS and len(_entries) > 1:
            _, evicted = _entries.popitem(last=False)
            _chars -= len(evicted.content)
    return made


def build(session: Session | Connection, revision_id: int) -> Layout:
    """The revision's layout read from its paragraphs (uncached)."""
    rows = session.execute(
        select(Paragraph.id, Paragraph.number, Paragraph.role, Paragraph.body)
        .where(Paragraph.revision_id == revision_id)
        .order_by(Paragraph.number)
    ).all()
    if not rows:  # every stored revision has paragraphs: this one is gone (or never was)
        raise LookupError(f"no revision {revision_id}")
    copies = [
        Paragraph(id=paragraph_id, revision_id=revision_id, number=number, role=role, body=body)
        for paragraph_id, number, role, body in rows
    ]
    return Layout(PARAGRAPH_SEPARATOR.join(p.body for p in copies), spans_of(copies))


def clear() -> None:
    global _chars
    with _lock:
        _entries.clear()
        _chars = 0
