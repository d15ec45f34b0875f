from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models.base import created_at_column

# scrypt with Werkzeug's defaults (n=2**15, r=8, p=1): deliberately slow for an attacker.
PASSWORD_METHOD = "scrypt"  # noqa: S105 (a method name, not a password)


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

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return not self.is_disabled

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class LoginAttempt(db.Model):
    """One sign-in attempt; failures within a window throttle further attempts.

    Kept in the database rather than in process memory so that every worker and every app
    server behind a load balancer counts the same attempts.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_created", "email", "created_at"),
        Index("ix_login_attempt_address_created", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
