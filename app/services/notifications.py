"""The inbox: replies to my notes and replies, @mentions of me by my group's members, and (for
moderators) each flag on a note of an audience they moderate."""

from __future__ import annotations

import re

from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from app.database import begin_write
from app.models import (
    Annotation,
    Flag,
    Membership,
    Notification,
    NotificationKind,
    Role,
    User,
    Visibility,
)
from app.models.base import utcnow
from app.services import mail
from app.services.access import (
    MODERATED_RULES,
    VISIBLE_RULES,
    Viewer,
    moderated_by,
    visibility_rule,
    visible_to,
)

# A flag's notice holds the flagger's words, for moderators only: it is listed (and counted)
# only while its reader moderates the note's audience; the note moved, or the reader no longer
# an instructor, it is gone from their inbox.
_NOT_A_FLAG = Notification.kind != NotificationKind.FLAG


def _mentioned(session: Session, annotation: Annotation) -> list[int]:
    """Group members named as @Display Name in a group annotation."""
    if annotation.visibility is not Visibility.GROUP or "@" not in annotation.body_source:
        return []
    rows = session.execute(
        select(User.id, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == annotation.group_id)
    ).all()
    by_name: dict[str, list[int]] = {}
    for user_id, name in rows:
        by_name.setdefault(name.casefold(), []).append(user_id)
    body = annotation.body_source.casefold()
    found = []
    for name in sorted(by_name, key=len, reverse=True):
        # A longer name claims its words first: "@Ada Lovelace" must not also mention "Ada".
        body, n = re.subn("@" + re.escape(name) + r"(?!\w)", " ", body)
        if n:
            found.extend(by_name[name])
    return found


def notify(session: Session, annotation: Annotation, parent: Annotation | None = None) -> None:
    """Tell the author of what ``annotation`` answers, and everyone it mentions (once each); by
    email too, as each chooses (queued in this transaction, sent by ``send-mail``)."""
    notified = {annotation.user_id}
    notices = []
    if parent is not None and parent.user_id not in notified and not parent.is_discussion:
        notices.append(
            Notification(
                user_id=parent.user_id, annotation_id=annotation.id, kind=NotificationKind.REPLY
            )
        )
        notified.add(parent.user_id)
    for user_id in _mentioned(session, annotation):
        if user_id not in notified:
            notices.append(
                Notification(
                    user_id=user_id, annotation_id=annotation.id, kind=NotificationKind.MENTION
                )
            )
            notified.add(user_id)
    session.add_all(notices)
    mail.queue(session, notices)


def _moderators(session: Session, annotation: Annotation) -> list[int]:
    """Who is told of a flag: a group note's instructors (and owner), a public note's site
    administrators; enabled accounts only."""
    query = select(User.id).where(User.is_disabled.is_(False)).order_by(User.id)
    if annotation.visibility is Visibility.GROUP:
        query = query.join(Membership, Membership.user_id == User.id).where(
            Membership.group_id == annotation.group_id,
            Membership.role.in_([r for r in Role if r.teaches]),
        )
    elif annotation.visibility is Visibility.PUBLIC:
        query = query.where(User.is_admin.is_(True))
    else:
        return []
    return list(session.scalars(query))


def notify_flag(session: Session, entry: Flag, annotation: Annotation) -> None:
    """A notice of the flag for each moderator of the note's audience but the flagger and the
    note's author: a flag on an instructor's own note is for their colleagues, or, failing
    any, for the site's administrators. By email too, as each chooses."""
    left_out = (entry.user_id, annotation.user_id)
    moderators = _moderators(session, annotation)
    told = [u for u in moderators if u not in left_out]
    if not told and annotation.user_id in moderators and annotation.visibility is Visibility.GROUP:
        admins = select(User.id).where(User.is_admin.is_(True), User.is_disabled.is_(False))
        told = [u for u in session.scalars(admins) if u not in left_out]
    notices = [
        Notification(
            user_id=user_id, annotation_id=annotation.id, kind=NotificationKind.FLAG, flag=entry
        )
        for user_id in told
    ]
    session.add_all(notices)
    mail.queue(session, notices)


def read_flag_notices(session: Session, flag_ids: list[int]) -> None:
    """Flags a moderator has dealt with (dismissed, or the note hidden) are news to nobody: their
    notices count as read for every moderator, though the inbox still lists them."""
    if flag_ids:
        session.execute(
            update(Notification)
            .where(Notification.flag_id.in_(flag_ids), Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )


def unread_query(kind: str) -> Select:
    """How many of ``:user_id``'s notifications are unread, for a kind of ``VISIBLE_RULES``
    (notes they may no longer see do not count)."""
    return (
        select(func.count(Notification.id))
        .join(Annotation, Annotation.id == Notification.annotation_id)
        .where(
            Notification.user_id == bindparam("user_id"),
            Notification.read_at.is_(None),
            VISIBLE_RULES[kind],
            or_(_NOT_A_FLAG, MODERATED_RULES[kind]),
        )
        .correlate(None)
    )


# Built once per kind of viewer: the count is in the header of every page.
_UNREAD = {kind: unread_query(kind) for kind in VISIBLE_RULES}


def unread_count(session: Session, viewer: Viewer) -> int:
    if viewer.user is None:
        return 0
    kind, params = visibility_rule(viewer)
    return session.scalar(_UNREAD[kind], {"user_id": viewer.id, **params})


def inbox(session: Session, viewer: Viewer, limit: int = 100) -> list[Notification]:
    """My notifications, newest first, for annotations I may still see (a flag's: that I still
    moderate)."""
    return list(
        session.scalars(
            select(Notification)
            .join(Annotation, Annotation.id == Notification.annotation_id)
            .where(
                Notification.user_id == viewer.id,
                visible_to(viewer),
                or_(_NOT_A_FLAG, moderated_by(viewer)),
            )
            .options(
                joinedload(Notification.annotation).joinedload(Annotation.user),
                joinedload(Notification.annotation).joinedload(Annotation.text),
                joinedload(Notification.flag).joinedload(Flag.user),
            )
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(session: Session, viewer: Viewer, notification_id: int | None = None) -> None:
    """Mark one notification read, or all of them."""
    begin_write(session)
    query = update(Notification).where(
        Notification.user_id == viewer.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    session.execute(query.values(read_at=utcnow()))
