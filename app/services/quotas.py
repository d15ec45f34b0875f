"""Write quotas: how many changes to annotations (new notes, highlights, replies and discussion
posts; edits, deletions, moves, reactions, moderation) one account may make per minute and per
day, so that one member with a script cannot flood a text, nor make every open page render again
with each toggle of a reaction.

Counted from the change log (``Event``: who made each change, and when, indexed together), not
in process memory: every worker and every app server behind a load balancer agrees, and nothing
needs an external store. The count runs inside the write transaction, after SQLite's write lock
is taken, so parallel requests of one account are counted one after another; on PostgreSQL the
account's row is locked for the same effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import Event, EventKind, Text, User, Visibility
from app.models.base import utcnow
from app.services.errors import QuotaExceeded


@dataclass(frozen=True)
class WriteLimits:
    """Changes allowed per account; 0 switches a limit off."""

    per_minute: int = 30
    per_day: int = 1000
    # Texts added to the library on the page (services/texts/adding.py), per day.
    texts_per_day: int = 20


MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)


def check(session: Session, user_id: int, limits: WriteLimits, now: datetime | None = None) -> None:
    """Raise QuotaExceeded if the account has used up a limit; call it under the write lock."""
    if not (limits.per_minute or limits.per_day):
        return
    now = now or utcnow()
    _take_turns(session, user_id)
    recent = Event.created_at > now - MINUTE
    in_minute, first_in_minute, in_day, first_in_day = session.execute(
        select(
            func.count(case((recent, 1))),
            func.min(case((recent, Event.created_at))),
            func.count(),
            func.min(Event.created_at),
        ).where(Event.actor_id == user_id, Event.created_at > now - DAY)
    ).one()
    for limit, used, first, window, what in (
        (limits.per_minute, in_minute, first_in_minute, MINUTE, "a minute"),
        (limits.per_day, in_day, first_in_day, DAY, "a day"),
    ):
        if limit and used >= limit:
            wait = max(1, math.ceil((first + window - now).total_seconds()))
            raise QuotaExceeded(
                f"You have made {used:,} changes to notes, highlights and replies in {what}, the "
                f"most this site allows. Nothing was saved; please try again in {_duration(wait)}.",
                wait,
            )


def _take_turns(session: Session, user_id: int) -> None:
    """On PostgreSQL, the account's parallel requests take turns from here until this write
    commits (SQLite's write lock does it there). In a statement of its own: a statement that
    waits for a lock still counts the rows its snapshot held before, which would let every
    parallel request through. FOR NO KEY UPDATE: others' writes that only refer to this account
    (a reply notifying it) check its key meanwhile without waiting, or two readers replying to
    each other deadlock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


def check_texts(session: Session, user_id: int, limits: WriteLimits, now: datetime | None = None):
    """Refuse a new text past the account's texts a day: one account must not fill the library
    (each text is up to a megabyte, stored and indexed). Call it under the write lock."""
    if not limits.texts_per_day:
        return
    now = now or utcnow()
    _take_turns(session, user_id)
    used, first = session.execute(
        select(func.count(), func.min(Text.created_at)).where(
            Text.added_by_id == user_id, Text.created_at > now - DAY
        )
    ).one()
    if used >= limits.texts_per_day:
        wait = max(1, math.ceil((first + DAY - now).total_seconds()))
        raise QuotaExceeded(
            f"You have added {used:,} texts in a day, the most this site allows. Nothing was "
            f"saved; please try again in {_duration(wait)}.",
            wait,
        )


def check_import(session: Session, user_id: int, limits: WriteLimits, now: datetime | None = None):
    """Refuse an import whose notes for a group or the public, with the day's other writes,
    pass the day's quota: shared, they reach readers as if written one by one. Private ones do
    not count (moving one's own notebook floods nobody). Call it once the import's notes are
    stored (and their events recorded, naming no actor) in the transaction, before it commits.
    """
    if not limits.per_day:
        return
    since = (now or utcnow()) - DAY
    written, shared = session.execute(
        select(
            func.count(case((Event.actor_id == user_id, 1))),
            func.count(case((Event.actor_id.is_(None), 1))),
        ).where(
            Event.created_at > since,
            (Event.actor_id == user_id)
            | (
                Event.actor_id.is_(None)
                & (Event.author_id == user_id)
                & (Event.kind == EventKind.CREATED)
                & (Event.visibility != Visibility.PRIVATE)
            ),
        )
    ).one()
    if written + shared > limits.per_day:
        raise QuotaExceeded(
            f"This import would share notes with a group or the public that, with your other "
            f"changes today ({written + shared:,} in all), pass the {limits.per_day:,} a day this "
            "site allows. Nothing was imported: import fewer shared notes, or import them as "
            "private (notes you keep to yourself do not count), or try again tomorrow.",
            int(DAY.total_seconds()),
        )


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"
