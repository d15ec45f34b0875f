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
