"""Live updates through a change log, not through memory.

Every change to an annotation writes an Event in the same transaction, with the annotation's
audience at that moment. A reading page polls ``events_after`` with the last id it saw: any
worker on any app server can answer, and a page that lost its connection asks again from its
cursor and misses nothing. Each event passes the access policy (judged on its audience
snapshot) before it leaves, so the feed never tells anyone about an annotation they may not see.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ScalarSelect, func, insert, select
from sqlalchemy.orm import Session

from app.models import Annotation, Event, EventKind, Visibility
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
    """
    visibility, group_id = audience or (annotation.visibility, annotation.group_id)
    session.connection().execute(
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


_INSERT = insert(Event.__table__)


@dataclass(frozen=True)
class LiveEvent:
    id: int
    kind: str
    annotation_id: int


def cursor_of(text_id) -> ScalarSelect[int]:
    """The change log's position on a text (0 before any change), as SQL: every reading of the
    cursor (the live feed, cached pages' keys) uses this one expression."""
    return (
        select(func.coalesce(func.max(Event.id), 0))
        .where(Event.text_id == text_id)
        .scalar_subquery()
    )


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
    return [LiveEvent(e.id, e.kind.value, e.annotation_id) for e in visible], cursor
