"""Deleting, restoring and moving annotations: changes that reach into a note's thread."""

from __future__ import annotations

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from app.database import begin_write
from app.models import (
    Annotation,
    AnnotationVersion,
    EventKind,
    Flag,
    Motivation,
    Visibility,
)
from app.models.base import utcnow
from app.services import live
from app.services.access import Action, Viewer, can
from app.services.annotations.rules import SUGGESTION_SHARED, check_audience, refusal
from app.services.annotations.writing import check_quota, get_for, thread_locked
from app.services.errors import Conflict, Invalid, NotFound


def delete(session: Session, viewer: Viewer, annotation_id: int) -> Annotation:
    """Gone from every view, kept in the database so that it can be restored.

    Its author deletes just the annotation (answers to it stay, under a placeholder). A
    moderator who is not its author removes it with every reply beneath it, so that a flood of
    replies goes at once; only a moderator restores that.
    """
    begin_write(session)
    annotation = thread_locked(session, annotation_id)
    if annotation is None or not can(viewer, Action.VIEW, annotation):
        raise NotFound()
    now = utcnow()
    if can(viewer, Action.DELETE, annotation):
        removed = [annotation]
    elif can(viewer, Action.REMOVE, annotation):
        beneath = _replies_beneath(session, annotation)
        removed = [annotation, *(reply for reply in beneath if reply.deleted_at is None)]
    else:
        raise refusal(viewer, Action.DELETE, annotation)
    check_quota(session, viewer)
    for each in removed:
        each.deleted_at, each.deleted_by_id = now, viewer.id
    session.flush()
    live.record(session, annotation, EventKind.DELETED, viewer.id)
    return annotation


def _replies_beneath(session: Session, annotation: Annotation) -> list[Annotation]:
    """Every reply under ``annotation``, deleted ones too: all of a root's thread, or a reply's
    subtree, walked without recursion (a chain of replies may be thousands deep)."""
    root_id = annotation.root_id or annotation.id
    replies = session.scalars(select(Annotation).where(Annotation.root_id == root_id)).all()
    children: dict[int, list[Annotation]] = {}
    for reply in replies:
        children.setdefault(reply.parent_id, []).append(reply)
    found, stack = [], [annotation.id]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child.id)
    return found


def _removed_by_moderator(annotation: Annotation) -> bool:
    return annotation.deleted_at is not None and annotation.deleted_by_id not in (
        None,
        annotation.user_id,
    )


def restore(session: Session, viewer: Viewer, annotation_id: int) -> Annotation:
    """Undo a delete: the author's own, or (by a moderator) a removal with what it took along.

    Nothing comes back under what a moderator still keeps removed: a reply restored there
    would be live in a thread nobody can open.
    """
    annotation = get_for(session, viewer, annotation_id, Action.RESTORE)
    if annotation.root_id is not None:
        thread = {
            a.id: a for a in _replies_beneath(session, session.get(Annotation, annotation.root_id))
        }
        thread[annotation.root_id] = session.get(Annotation, annotation.root_id)
        ancestor = thread.get(annotation.parent_id)
        while ancestor is not None:
            if _removed_by_moderator(ancestor):
                raise Conflict(
                    "A moderator removed what this answers: it can come back only with that."
                )
            ancestor = thread.get(ancestor.parent_id)
    if annotation.is_discussion and _discussion_started_again(session, annotation):
        raise Conflict(
            "This paragraph's discussion was started again since it was removed: remove the new "
            "one first to bring this one back (a group has one discussion of each paragraph)."
        )
    if _removed_by_moderator(annotation):
        removal = (annotation.deleted_at, annotation.deleted_by_id)
        for reply in _replies_beneath(session, annotation):
            if (reply.deleted_at, reply.deleted_by_id) == removal:
                reply.deleted_at = reply.deleted_by_id = None
    annotation.deleted_at = annotation.deleted_by_id = None
    session.flush()
    live.record(session, annotation, EventKind.RESTORED, viewer.id)
    return annotation


def _discussion_started_again(session: Session, thread: Annotation) -> bool:
    """Is another live discussion of the group's on the removed thread's paragraph: restored
    beside it, the page would show one of the two and a question pinned to the other would be
    edited and unpinned where nobody sees it."""
    if thread.start is None:  # its paragraph revised away: among the orphans, on no paragraph
        return False
    other = session.scalar(
        select(Annotation.id).where(
            Annotation.text_id == thread.text_id,
            Annotation.group_id == thread.group_id,
            Annotation.is_discussion.is_(True),
            Annotation.start == thread.start,
            Annotation.deleted_at.is_(None),
            Annotation.id != thread.id,
        )
    )
    return other is not None


def set_visibility(
    session: Session,
    viewer: Viewer,
    annotation_id: int,
    visibility: Visibility,
    group_id: int | None = None,
) -> Annotation:
    """Change who may see a thread: the root and every reply under it move together.

    A move never shows anyone's words to people they were not written for. So only the
    thread's author moves it, as a current member of its group (``can(MOVE)``), and the thread
    stays where it is while it holds anyone else's words (replies, deleted ones too, which
    their authors may restore) or is under moderation (hidden, or flagged and not yet looked
    at: it must not leave the instructors who are to judge it). The author's own earlier
    versions were written for the old audience: from now on only the author reads them.
    """
    annotation = get_for(session, viewer, annotation_id, Action.MOVE)
    check_audience(viewer, visibility, group_id)
    if annotation.motivation is Motivation.EDITING and visibility is Visibility.PRIVATE:
        raise Invalid(SUGGESTION_SHARED)
    if (annotation.visibility, annotation.group_id) == (visibility, group_id):
        return annotation
    in_thread = (Annotation.id == annotation.id) | (Annotation.root_id == annotation.id)
    others, hidden, flagged = session.execute(
        select(
            func.count(case((Annotation.user_id != annotation.user_id, 1))),
            func.count(Annotation.hidden_at),
            select(func.count(Flag.id))
            .join(Annotation, Annotation.id == Flag.annotation_id)
            .where(in_thread, Flag.resolved_at.is_(None))
            .scalar_subquery(),
        ).where(in_thread)
    ).one()
    if others:
        raise Conflict(
            "Others have replied in this thread, so it stays with the audience they wrote for: "
            "moving it would show their words to people they did not write them for."
        )
    if hidden:
        raise Conflict("An instructor has hidden part of this thread: it stays where it is.")
    if flagged:
        raise Conflict(
            "Someone has asked the instructors to look at this thread: it stays where it is "
            "until they have."
        )
    # Those who could see it must hear that it left; those who now can, that it arrived.
    live.record(session, annotation, EventKind.VISIBILITY, viewer.id)
    annotation.visibility, annotation.group_id = visibility, group_id
    session.execute(
        update(Annotation)
        .where(Annotation.root_id == annotation.id)
        .values(visibility=visibility, group_id=group_id)
    )
    session.execute(
        update(AnnotationVersion)
        .where(AnnotationVersion.annotation_id.in_(select(Annotation.id).where(in_thread)))
        .values(author_only=True)
    )
    session.flush()
    live.record(session, annotation, EventKind.VISIBILITY, viewer.id)
    return annotation
