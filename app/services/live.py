"""Live updates through a change log, not through memory.

Every change to an annotation writes an Event in the same transaction, with the annotation's
audience at that moment. A reading page polls ``events_after`` with the last id it saw: any
worker on any app server can answer, and a page that lost its connection asks again from its
cursor and misses nothing. Each event passes the access policy (judged on its audience
snapshot) before it leaves, so the feed never tells anyone about an annotation they may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, bindparam, func, insert, select
from sqlalchemy.orm import Session

from app.models import Annotation, Event, EventKind, PartChange, Text, TextRevision, Visibility
from app.models.annotation import group_key
from app.models.text import paragraph_index
from app.services import revision_cache
from app.services.access import Action, Viewer, can

MAX_EVENTS = 200


def record(
    session: Session,
    annotation: Annotation,
    kind: EventKind,
    actor_id: int | None,
    audience: tuple[Visibility, int | None] | None = None,
) -> None:
    """Log a change made by ``actor_id``; ``audience`` overrides who could see it (e.g. before
    a visibility change).

    The row is inserted at once, with one plain INSERT (no unit of work: it is on every write
    path, under the write lock), so the annotation must have its id (be flushed) already.
    With it go the reading-page parts it changes, for each audience whose render of them it
    changes (see ``part_audiences``).
    """
    visibility, group_id = audience or (annotation.visibility, annotation.group_id)
    event_id = (
        session.connection()
        .execute(
            _INSERT,
            {
                "text_id": annotation.text_id,
                "annotation_id": annotation.id,
                "kind": kind,
                "author_id": annotation.user_id,
                "visibility": visibility,
                "group_id": group_id,
                "actor_id": actor_id,
            },
        )
        .scalar_one()
    )
    hidden = kind in (EventKind.HIDDEN, EventKind.UNHIDDEN) or annotation.is_hidden
    parts = parts_of(session, annotation)
    session.connection().execute(
        insert(PartChange.__table__),
        [
            {"event_id": event_id, "text_id": annotation.text_id, "audience": key, "part": part}
            for key in part_audiences(visibility, group_id, annotation.user_id, hidden)
            for part in parts
        ],
    )


_INSERT = insert(Event.__table__).returning(Event.id)

# The reading page's part for the notes on the whole text and those whose words are gone; the
# others are paragraphs, by number (from 1).
WHOLE_TEXT_PART = 0


def user_audience(user_id: int) -> str:
    """The audience of what one reader alone sees differently."""
    return f"user-{user_id}"


def audience_of(visibility: Visibility, group_id: int | None, author_id: int) -> str:
    if visibility is Visibility.PUBLIC:
        return "public"
    if visibility is Visibility.GROUP and group_id is not None:
        return group_key(group_id)
    return user_audience(author_id)


def part_audiences(
    visibility: Visibility, group_id: int | None, author_id: int, hidden: bool
) -> list[str]:
    """Whose render of a part a change in this audience changes: everyone's in it, and the
    author's own besides when the note is hidden (its author still reads its words)."""
    keys = [audience_of(visibility, group_id, author_id)]
    if hidden and user_audience(author_id) not in keys:
        keys.append(user_audience(author_id))
    return keys


def parts_of(session: Session, annotation: Annotation) -> list[int]:
    """The parts showing an annotation: its thread's first note's paragraphs (every one its
    highlight covers), or the whole-text part."""
    root = annotation if annotation.root_id is None else session.get(Annotation, annotation.root_id)
    if root.start is None or root.end is None:
        return [WHOLE_TEXT_PART]
    revision = session.get(TextRevision, root.revision_id)
    spans = revision_cache.layout_of(session, revision.id, revision.content_hash).spans
    first, last = paragraph_index(spans, root.start), paragraph_index(spans, root.end - 1)
    return [spans[i].paragraph.number for i in range(first, last + 1)]


def part_versions(
    session: Session, text_id: int, audiences: list[str], parts: list[int] | None = None
) -> dict[str, dict[int, int]]:
    """For each audience, each part's version (of ``parts``, or of all): the last event that
    changed it there."""
    params = {"text_id": text_id, "audiences": audiences}
    if parts is None:
        rows = session.execute(_ALL_PART_VERSIONS, params)
    else:
        rows = session.execute(_PART_VERSIONS, {**params, "parts": parts})
    versions: dict[str, dict[int, int]] = {key: {} for key in audiences}
    for key, part, version in rows:
        versions[key][part] = version
    return versions


# Built once: a live update asks for a part's version with every part it fetches.
_ALL_PART_VERSIONS = (
    select(PartChange.audience, PartChange.part, func.max(PartChange.event_id))
    .where(
        PartChange.text_id == bindparam("text_id"),
        PartChange.audience.in_(bindparam("audiences", expanding=True)),
    )
    .group_by(PartChange.audience, PartChange.part)
)
_PART_VERSIONS = _ALL_PART_VERSIONS.where(PartChange.part.in_(bindparam("parts", expanding=True)))


@dataclass(frozen=True)
class LiveEvent:
    id: int
    kind: str
    annotation_id: int
    parts: tuple[int, ...] = ()  # the reading-page parts it changed
    yours: bool = False  # made by the viewer: not news to them

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "annotation": self.annotation_id,
            "parts": list(self.parts),
            "yours": self.yours,
        }


def cursor_of(text_id) -> ScalarSelect[int]:
    """The change log's position on a text (0 before any change), as SQL: every reading of the
    cursor (the live feed, cached pages' keys) uses this one expression."""
    return (
        select(func.coalesce(func.max(Event.id), 0))
        .where(Event.text_id == text_id)
        .scalar_subquery()
    )


# Built once: asked by every open reading page every 2.5 s.
_TEXT_AND_CURSOR = select(Text.id, cursor_of(Text.id)).where(
    Text.slug == bindparam("slug"), Text.current_revision_id.is_not(None)
)


def news(
    session: Session, slug: str, after: int | None, reader: Callable[[], Viewer]
) -> tuple[list[LiveEvent], int] | None:
    """What a poll from cursor ``after`` learns: the events ``reader()`` may know of, and the
    new cursor; None for no text. Without ``after``, only the cursor, to follow
    from now. A poll that finds nothing new (that of almost every open page) is answered from
    one statement, before anything is known of who asks: it tells nobody anything."""
    stamp = session.execute(_TEXT_AND_CURSOR, {"slug": slug}).first()
    if stamp is None:
        return None
    text_id, latest = stamp
    if after is None:
        return [], latest
    if latest <= after:
        return [], after
    return events_after(session, reader(), text_id, after)


def current_revision_id(session: Session, slug: str) -> int | None:
    """The revision a text shows now: a page rendered on another reloads its text (an accepted
    suggestion changed its words, and the offsets of every paragraph after them)."""
    return session.scalar(select(Text.current_revision_id).where(Text.slug == slug))


def latest_id(session: Session, text_id: int) -> int:
    return session.scalar(select(cursor_of(text_id)))


def events_after(
    session: Session, viewer: Viewer, text_id: int, after: int
) -> tuple[list[LiveEvent], int]:
    """Events on a text after cursor ``after`` that the viewer may know of, and the new cursor.

    The cursor moves past filtered events too, so nobody re-reads what they may not see.
    """
    rows = session.scalars(
        select(Event)
        .where(Event.text_id == text_id, Event.id > after)
        .order_by(Event.id)
        .limit(MAX_EVENTS)
    ).all()
    cursor = rows[-1].id if rows else after
    visible = [e for e in rows if can(viewer, Action.VIEW, e.audience())]
    parts: dict[int, set[int]] = {e.id: set() for e in visible}
    if visible:
        for event_id, part in session.execute(
            select(PartChange.event_id, PartChange.part).where(PartChange.event_id.in_(parts))
        ):
            parts[event_id].add(part)
    return [
        LiveEvent(
            e.id,
            e.kind.value,
            e.annotation_id,
            tuple(sorted(parts[e.id])),
            viewer.user is not None and e.actor_id == viewer.id,
        )
        for e in visible
    ], cursor
