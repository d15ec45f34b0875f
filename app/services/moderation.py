"""Flags and hiding: readers ask the instructors to look; moderators settle and hide."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.database import begin_write
from app.models import Annotation, EventKind, Flag
from app.models.base import utcnow
from app.services import live, notifications
from app.services.access import Action, Viewer, can, visible_to
from app.services.annotations import get_for
from app.services.errors import Conflict, Invalid, NotFound

MAX_FLAG_REASON = 1_000

ALREADY_FLAGGED = (
    "You have already flagged this note: the instructors will see your flag. "
    "You may flag it again once they have looked at it."
)


def flag(session: Session, viewer: Viewer, annotation_id: int, reason: str) -> Flag:
    """Ask the instructors to look at an annotation, and tell each of them in their inbox.

    One open flag per reader and annotation: a second is refused while the first waits. Once a
    moderator has dismissed it the reader may flag the note again (it may have changed since;
    what the moderator answered was the earlier report); a hidden note takes no flag."""
    reason = " ".join(reason.split())
    if not reason:
        raise Invalid("Say why this needs an instructor's attention.")
    if len(reason) > MAX_FLAG_REASON:
        raise Invalid(f"A reason may have at most {MAX_FLAG_REASON:,} characters.")
    annotation = get_for(session, viewer, annotation_id, Action.FLAG)
    mine = select(Flag.id).where(
        Flag.annotation_id == annotation.id, Flag.user_id == viewer.id, Flag.resolved_at.is_(None)
    )
    if session.scalar(mine) is not None:
        raise Conflict(ALREADY_FLAGGED)
    entry = Flag(annotation_id=annotation.id, user_id=viewer.id, reason=reason)
    try:
        with session.begin_nested():  # PostgreSQL: a parallel request may have flagged first
            session.add(entry)
    except IntegrityError:
        raise Conflict(ALREADY_FLAGGED) from None
    notifications.notify_flag(session, entry, annotation)
    return entry


def my_open_flags(session: Session, viewer: Viewer, root_id: int) -> dict[int, Flag]:
    """The viewer's flags in a thread still waiting for a moderator, by annotation: a note's
    own page says "You flagged this" there instead of offering the form again."""
    if viewer.user is None:
        return {}
    flags = session.scalars(
        select(Flag)
        .join(Annotation, Annotation.id == Flag.annotation_id)
        .where(
            Flag.user_id == viewer.id,
            Flag.resolved_at.is_(None),
            or_(Annotation.id == root_id, Annotation.root_id == root_id),
        )
    )
    return {f.annotation_id: f for f in flags}


def my_flagged(session: Session, viewer: Viewer, text_id: int) -> list[int]:
    """The notes of a text the viewer has flagged and no moderator has looked at yet: what the
    reading page marks as flagged in parts shared with others (rendered for nobody's flags)."""
    if viewer.user is None:
        return []
    return list(
        session.scalars(
            select(Flag.annotation_id)
            .join(Annotation, Annotation.id == Flag.annotation_id)
            .where(
                Flag.user_id == viewer.id,
                Flag.resolved_at.is_(None),
                Annotation.text_id == text_id,
                visible_to(viewer),
            )
            .order_by(Flag.annotation_id)
        )
    )


def set_hidden(session: Session, viewer: Viewer, annotation_id: int, hidden: bool) -> Annotation:
    """Hide or show again; hiding settles the annotation's open flags."""
    annotation = get_for(session, viewer, annotation_id, Action.HIDE)
    if hidden == annotation.is_hidden:
        return annotation
    annotation.hidden_at = utcnow() if hidden else None
    annotation.hidden_by_id = viewer.id if hidden else None
    if hidden:
        settled = list(
            session.scalars(
                select(Flag.id).where(
                    Flag.annotation_id == annotation.id, Flag.resolved_at.is_(None)
                )
            )
        )
        session.execute(update(Flag).where(Flag.id.in_(settled)).values(resolved_at=utcnow()))
        notifications.read_flag_notices(session, settled)
    session.flush()
    live.record(session, annotation, EventKind.HIDDEN if hidden else EventKind.UNHIDDEN, viewer.id)
    return annotation


def open_flags(session: Session, viewer: Viewer, group_id: int | None = None) -> list[Flag]:
    """Unresolved flags on annotations the viewer moderates (a group's, or all for admins)."""
    query = (
        select(Flag)
        .join(Annotation, Annotation.id == Flag.annotation_id)
        .where(Flag.resolved_at.is_(None), visible_to(viewer))
        .options(
            joinedload(Flag.annotation).joinedload(Annotation.text),
            joinedload(Flag.annotation).joinedload(Annotation.user),
            joinedload(Flag.user),
        )
        .order_by(Flag.created_at)
    )
    if group_id is not None:
        query = query.where(Annotation.group_id == group_id)
    return [f for f in session.scalars(query) if can(viewer, Action.SEE_FLAGS, f.annotation)]


def resolve_flag(session: Session, viewer: Viewer, flag_id: int) -> None:
    begin_write(session)
    entry = session.get(Flag, flag_id)
    if entry is None or not can(viewer, Action.SEE_FLAGS, entry.annotation):
        raise NotFound("No such flag.")
    entry.resolved_at = utcnow()
    notifications.read_flag_notices(session, [entry.id])
    session.flush()
