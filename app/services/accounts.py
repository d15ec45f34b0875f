"""Registration, sign-in with throttling, and account administration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.database import begin_write
from app.models import LoginAttempt, User
from app.models.base import utcnow
from app.models.user import PASSWORD_METHOD

MIN_PASSWORD_LENGTH = 10
MAX_DISPLAY_NAME = 80
MAX_EMAIL = 254
MAX_PASSWORD_LENGTH = 1024  # scrypt hashes any length; this only stops absurd request bodies
_DUMMY_HASH = generate_password_hash("not a real password", method=PASSWORD_METHOD)


class AccountError(ValueError):
    """A request about accounts that cannot be granted; the message is shown to the user.

    ``field`` names the form field the message belongs beside, if any.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class EmailTaken(AccountError):
    def __init__(self):
        super().__init__("An account with this email address already exists.", "email")


class TooManyAttempts(AccountError):
    def __init__(self, retry_after: timedelta):
        minutes = max(1, round(retry_after.total_seconds() / 60))
        super().__init__(
            f"Too many failed sign-in attempts. Please wait {minutes} minute"
            f"{'s' if minutes != 1 else ''} and try again."
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginPolicy:
    window: timedelta
    failures_per_account: int
    failures_per_address: int


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.", "password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            f"Passwords may have at most {MAX_PASSWORD_LENGTH} characters.", "password"
        )


def create_user(
    session: Session, email: str, display_name: str, password: str, *, is_admin: bool = False
) -> User:
    """Add an account; refuses an email already taken in any letter case."""
    check_password_rules(password)
    display_name = " ".join(display_name.split())
    if not display_name:
        raise AccountError("Please give a display name.", "display_name")
    if len(display_name) > MAX_DISPLAY_NAME:
        raise AccountError(
            f"A display name may have at most {MAX_DISPLAY_NAME} characters.", "display_name"
        )
    if len(email.strip()) > MAX_EMAIL:
        raise AccountError(f"An email address may have at most {MAX_EMAIL} characters.", "email")
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(f"That email address is not valid: {error}", "email") from None
    email = normalise_email(email)
    user = User(email=email, display_name=display_name, is_admin=is_admin)
    user.set_password(password)  # scrypt is slow: hash before taking SQLite's write lock
    begin_write(session)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken()
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        # PostgreSQL runs two sign-ups for one address side by side: both pass the check
        # above, and the unique constraint refuses the second insert.
        raise EmailTaken() from None
    return user


def _recent_failures(
    session: Session, column, value: str, since: datetime
) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(LoginAttempt.id), func.min(LoginAttempt.created_at)).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > since
        )
    ).one()
    return count, oldest


def _check_throttle(
    session: Session, email: str, address: str, policy: LoginPolicy, now: datetime
) -> None:
    since = now - policy.window
    for column, value, limit in (
        (LoginAttempt.email, email, policy.failures_per_account),
        (LoginAttempt.address, address, policy.failures_per_address),
    ):
        count, oldest = _recent_failures(session, column, value, since)
        if count >= limit:
            if oldest.tzinfo is None:  # SQLite hands back naive datetimes
                oldest = oldest.replace(tzinfo=now.tzinfo)
            raise TooManyAttempts(oldest + policy.window - now)


def authenticate(
    session: Session, email: str, password: str, address: str, policy: LoginPolicy
) -> User:
    """Return the user for these credentials, recording the attempt; raise AccountError if not.

    The caller must commit even when this raises, so that the failed attempt counts.
    """
    email = normalise_email(email)
    now = utcnow()
    # Check and hash outside the write lock (scrypt is slow), then check again inside it, so
    # concurrent guesses cannot slip past the limit.
    _check_throttle(session, email, address, policy, now)
    user = session.scalar(select(User).where(User.email == email))
    # Hash even for an unknown address, so response time does not reveal which emails have accounts.
    password_ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    begin_write(session)
    _check_throttle(session, email, address, policy, now)
    user = session.scalar(select(User).where(User.email == email))
    ok = user is not None and password_ok and not user.is_disabled
    session.add(LoginAttempt(email=email, address=address, succeeded=ok, created_at=now))
    if ok:
        # A success clears the account's failures: one who remembers is not locked out later.
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.email == email, LoginAttempt.succeeded.is_(False)
            )
        )
        return user
    if user is not None and password_ok:
        raise AccountError("This account has been disabled. Please contact the site administrator.")
    raise AccountError("The email address or password is not correct.")


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(func.lower(User.display_name))))


def set_disabled(session: Session, viewer, user_id: int, disabled: bool) -> User:
    """A disabled account cannot sign in, and its open sessions end on their next request."""
    if not viewer.is_admin:
        raise AccountError("Only site administrators can do that.")
    if user_id == viewer.id:
        raise AccountError("You cannot disable your own account.")
    begin_write(session)
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("No such account.")
    user.is_disabled = disabled
    return user
