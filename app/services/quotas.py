"""Write quotas: how many annotations (notes, highlights, replies, discussion posts) one account
may create per minute and per day, so that one member with a script cannot flood a text.

Counted from the annotations themselves (their author and creation time, indexed together), not
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

from app.models import Annotation, User
from app.models.base import utcnow
from app.services.errors import QuotaExceeded


@dataclass(frozen=True)
class WriteLimits:
    """Creates allowed per account; 0 switches a limit off."""

    per_minute: int = 30
    per_day: int = 1000


MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)


def check(session: Session, user_id: int, limits: WriteLimits, now: datetime | None = None) -> None:
    """Raise QuotaExceeded if the account has used up a limit; call it under the write lock."""
    if not (limits.per_minute or limits.per_day):
        return
    now = now or utcnow()
    recent = Annotation.created_at > now - MINUTE
    used = (
        select(
            func.count(case((recent, 1))).label("in_minute"),
            func.min(case((recent, Annotation.created_at))).label("first_in_minute"),
            func.count().label("in_day"),
            func.min(Annotation.created_at).label("first_in_day"),
        )
        .where(Annotation.user_id == user_id, Annotation.created_at > now - DAY)
        .subquery()
    )
    # One statement: the counts, and on PostgreSQL the account's row locked until the write
    # commits, so that an account's parallel requests are counted one after another.
    in_minute, first_in_minute, in_day, first_in_day = session.execute(
        select(used).join(User, User.id == user_id).with_for_update(of=User)
    ).one()
    for limit, used, first, window, what in (
        (limits.per_minute, in_minute, first_in_minute, MINUTE, "a minute"),
        (limits.per_day, in_day, first_in_day, DAY, "a day"),
    ):
        if limit and used >= limit:
            if first.tzinfo is None:  # SQLite gives datetimes back without their zone
                first = first.replace(tzinfo=now.tzinfo)
            wait = max(1, math.ceil((first + window - now).total_seconds()))
            raise QuotaExceeded(
                f"You have written {used:,} notes, highlights and replies in {what}, the most "
                f"this site allows. Nothing was saved; please try again in {_duration(wait)}.",
                wait,
            )


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"
