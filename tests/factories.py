"""Test data built through the services, so tests get exactly what the app would store."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from app.models import User
from app.services import accounts

DEFAULT_PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(
    session: Session,
    email: str | None = None,
    name: str | None = None,
    password: str = DEFAULT_PASSWORD,
    *,
    is_admin: bool = False,
) -> User:
    n = next(_counter)
    user = accounts.create_user(
        session, email or f"user{n}@example.org", name or f"User {n}", password, is_admin=is_admin
    )
    session.commit()
    return user


def make_annotation(
    session: Session,
    user: User,
    text,
    quote: str | None = None,
    *,
    body: str = "",
    tags: tuple[str, ...] = (),
    color=None,
    occurrence: int = 0,
    visibility=None,
    group=None,
):
    """An annotation on the ``occurrence``-th appearance of ``quote`` (None: the whole text)."""
    from app.models import Motivation, Visibility
    from app.services import annotations
    from app.services.access import viewer_for

    target = None
    if quote is not None:
        content = text.current_revision.content
        start = -1
        for _ in range(occurrence + 1):
            start = content.index(quote, start + 1)
        target = annotations.SpanTarget(exact=quote, start=start, end=start + len(quote))
    draft = annotations.Draft(
        text_slug=text.slug,
        motivation=Motivation.COMMENTING if body else Motivation.HIGHLIGHTING,
        body=body,
        tags=list(tags),
        color=color,
        target=target,
        visibility=visibility or (Visibility.GROUP if group else Visibility.PRIVATE),
        group_id=group.id if group else None,
    )
    annotation = annotations.create(session, viewer_for(session, user), draft)
    session.commit()
    return annotation
