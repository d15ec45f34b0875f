"""Personal access tokens: scripts act as their reader with ``Authorization: Bearer scholia_…``.

A token is a secret of 32 random bytes (``secrets.token_urlsafe``) behind a prefix that says what
it is, so a secret pasted where it should not be is easy to find. Only its SHA-256 is stored:
the secret is shown once, when it is made, and never again. Revoking deletes the row. A token
acts for its account exactly as a signed-in browser does (the same access policy), and does
nothing once the account is disabled.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.database import BUSY_TIMEOUT_MS, begin_write, rows_committed
from app.models import ApiToken, User
from app.models.base import utcnow
from app.services.errors import Conflict, Invalid, InvalidToken, NotFound, TooLarge

PREFIX = "scholia_"
MAX_NAME = 80  # ApiToken.name
MAX_LIVE_TOKENS = 20
# How stale the "last used" time may be: written at most this often per token.
LAST_USED_EVERY = timedelta(minutes=1)
# What token_urlsafe(32) makes: 43 characters of the URL-safe base64 alphabet.
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
log = logging.getLogger(__name__)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_name(name: str) -> str:
    """The name as stored, whitespace folded: required, at most MAX_NAME characters."""
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in name):
        raise Invalid("A token's name may not contain control characters.")
    name = " ".join(name.split())
    if not name:
        raise Invalid("Give the token a name, to tell it apart later (e.g. “Grading script”).")
    if len(name) > MAX_NAME:
        raise TooLarge(f"A token's name may have at most {MAX_NAME} characters.")
    return name


def create(session: Session, user_id: int, name: str) -> tuple[ApiToken, str]:
    """A new token for the account and its secret, which the caller shows once."""
    name = clean_name(name)
    secret = PREFIX + secrets.token_urlsafe(32)
    begin_write(session)
    # The account's row, locked: two tokens made at once on PostgreSQL count each other
    # (SQLite's write lock does this already).
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    live = session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == user_id))
    if live >= MAX_LIVE_TOKENS:
        raise Conflict(
            f"You already have {MAX_LIVE_TOKENS} access tokens, the most one account may "
            "hold. Revoke one you no longer use, then make a new one."
        )
    token = ApiToken(user_id=user_id, name=name, secret_hash=digest(secret))
    session.add(token)
    session.flush()
    return token, secret


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """The account's tokens, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke(session: Session, user_id: int, token_id: int) -> str:
    """Delete one of the account's own tokens and return its name; another account's token is
    as missing as one that never was."""
    begin_write(session)
    token = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    if token is None:
        raise NotFound("No such access token: it may have been revoked already.")
    name = token.name
    session.execute(delete(ApiToken).where(ApiToken.id == token.id))
    return name


@dataclass(frozen=True)
class Bearer:
    """A token that checked out: the account it acts for."""

    token_id: int
    user_id: int


_BY_HASH = select(ApiToken.id, ApiToken.user_id, ApiToken.last_used_at, User.is_disabled).join(
    User, User.id == ApiToken.user_id
)


def authenticate(engine: Engine, secret: str, now: datetime | None = None) -> Bearer:
    """The account a secret acts for, or InvalidToken. Read on a connection of its own, before
    the request's session begins; the last-used time is written at most once a minute, and a
    database that cannot take the write (read-only, busy) leaves it for a later request."""
    if not secret.startswith(PREFIX) or not _SECRET.fullmatch(secret[len(PREFIX) :]):
        raise InvalidToken("The access token is malformed: it is not one Scholia made.")
    rows = rows_committed(engine, _BY_HASH.where(ApiToken.secret_hash == digest(secret)), {})
    if not rows:
        raise InvalidToken("The access token is not valid: it was revoked, or never existed.")
    row = rows[0]
    if row.is_disabled:
        raise InvalidToken("The access token's account is disabled.")
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        _note_use(engine, row.id, now)
    return Bearer(row.id, row.user_id)


def _note_use(engine: Engine, token_id: int, now: datetime) -> None:
    """Record the use, unless another request did within the minute; never an error."""
    stale = or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_EVERY)
    statement = update(ApiToken).where(ApiToken.id == token_id, stale).values(last_used_at=now)
    try:
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Not the writes' wait for a busy lock: this write can be left for later.
                driver.execute("PRAGMA busy_timeout = 0")
            try:
                with connection.begin():
                    if not sqlite:  # a row another transaction holds: do not wait for it
                        connection.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")
                    connection.execute(statement)
            finally:
                if sqlite:
                    driver.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except (DBAPIError, sqlite3.Error) as error:
        log.warning("a token's last use was not recorded: %s", getattr(error, "orig", error))
