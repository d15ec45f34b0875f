from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models.base import UTCDateTime, created_at_column

# scrypt with Werkzeug's defaults (n=2**15, r=8, p=1): deliberately slow for an attacker.
PASSWORD_METHOD = "scrypt"  # noqa: S105 (a method name, not a password)
# The method new hashes use in this process: create_app sets the PASSWORD_HASH_METHOD setting
# (the test suite's cheap one spares it minutes of scrypt); checking reads a hash's own method.
_hashing = {"method": PASSWORD_METHOD}


def use_password_method(method: str) -> None:
    _hashing["method"] = method


def password_method() -> str:
    return _hashing["method"]


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_hashing["method"])


def session_id(user_id: int, generation: int) -> str:
    """The user id a session carries, "12.3": user 12, session generation 3."""
    return f"{user_id}.{generation}"


def parse_session_id(value: str) -> tuple[int, int] | None:
    """The user id and generation a session names, or None for nonsense. A bare "12" comes
    from a cookie made before generations existed: generation 0, so it survived their arrival."""
    user_id, dot, generation = value.partition(".")
    if dot and not generation:
        return None
    if not all(part.isascii() and part.isdigit() for part in (user_id, generation or "0")):
        return None
    if len(user_id) > 18 or len(generation) > 18:  # beyond any 64-bit integer a database holds
        return None
    return int(user_id), int(generation or 0)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased (see services.accounts.normalise_email): unique regardless of case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The audience of this reader's last new note ("private", "public" or "group-<id>"),
    # offered again as the default: the editor remembers the last choice.
    last_audience: Mapped[str] = mapped_column(
        String(32), default="private", server_default="private"
    )
    created_at: Mapped[datetime] = created_at_column()
    # Every session carries the generation it began in (``get_id``); signing out, changing the
    # password and disabling the account move it on, which ends every earlier session at once.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def end_sessions(self) -> None:
        """Every session begun before this ends on its next request (views/auth.py: load_user)."""
        self.session_generation = User.session_generation + 1  # in SQL: two writers both count

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the id and the session generation."""
        return session_id(self.id, self.session_generation)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return not self.is_disabled

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class LoginAttempt(db.Model):
    """One sign-in attempt; failures within a window delay further attempts.

    Kept in the database rather than in process memory so that every worker and every app
    server behind a load balancer counts the same attempts. ``device`` is the nonce of the
    device cookie that vouched for the attempt (a browser that signed in to this account
    before), or None for an attempt from a stranger: the two are counted apart.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_created", "email", "created_at"),
        Index("ix_login_attempt_address_created", "address", "created_at"),
        Index("ix_login_attempt_device_created", "device", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(64), nullable=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(db.Model):
    """A personal access token, for scripts: ``Authorization: Bearer scholia_…`` on the API.

    Only the SHA-256 of the secret is kept: the secret is shown once, when it is made, and a
    copy of the database lets nobody act as its owner. A revoked token's row is deleted.
    ``last_used_at`` is written at most once a minute (services/tokens.py), not per request.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} of user {self.user_id}>"
