"""Registration, the rules for names, addresses and passwords, and account administration."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.database import begin_write
from app.models import User
from app.models.user import hash_password

MIN_PASSWORD_LENGTH = 10
MAX_DISPLAY_NAME = 80
MAX_EMAIL = 254
MAX_PASSWORD_LENGTH = 1024  # scrypt hashes any length; this only stops absurd request bodies


# Characters that reorder the text around them: in a name shown beside other people's words
# they could make a note appear to say something else, or a name look like another's.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern): with
# whitespace and format characters (category Cf) they cannot be a whole name.
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")


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


def normalise_email(email: str) -> str:
    """One spelling per address: composed characters (NFC), then lower case, so that neither
    the letter case nor how the keyboard composed "é" makes a second account."""
    return unicodedata.normalize("NFC", email.strip()).lower()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.", "password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            f"Passwords may have at most {MAX_PASSWORD_LENGTH} characters.", "password"
        )


def clean_display_name(name: str) -> str:
    """The name as stored, runs of whitespace folded; refuses one that would break or hide the
    text it is shown in (PostgreSQL refuses NUL outright)."""
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise AccountError("A display name may not contain control characters.", "display_name")
    if any(c in BIDI_CONTROLS for c in name):
        raise AccountError(
            "A display name may not contain text-direction controls.", "display_name"
        )
    name = " ".join(name.split())
    if all(unicodedata.category(c) == "Cf" or c in BLANK_LOOKING or c == " " for c in name):
        raise AccountError("A display name needs at least one visible character.", "display_name")
    if len(name) > MAX_DISPLAY_NAME:
        raise AccountError(
            f"A display name may have at most {MAX_DISPLAY_NAME} characters.", "display_name"
        )
    return name


def _checked_email(email: str) -> str:
    email = unicodedata.normalize("NFC", email.strip())
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(f"That email address is not valid: {error}", "email") from None
    email = normalise_email(email)
    if len(email) > MAX_EMAIL:
        raise AccountError(f"An email address may have at most {MAX_EMAIL} characters.", "email")
    return email


def user_by_email(session: Session, email: str) -> User | None:
    """The account with this address, already normalised."""
    return session.scalar(select(User).where(User.email == email))


def create_user(
    session: Session, email: str, display_name: str, password: str, *, is_admin: bool = False
) -> User:
    """Add an account; refuses an email already taken in any letter case."""
    check_password_rules(password)
    display_name = clean_display_name(display_name)
    if len(email.strip()) > MAX_EMAIL:
        raise AccountError(f"An email address may have at most {MAX_EMAIL} characters.", "email")
    email = _checked_email(email)
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


# ---- passwords and administration ----


def set_password(session: Session, email: str, password: str) -> User:
    """An administrator's reset (``flask set-password``): also ends every session."""
    check_password_rules(password)
    new_hash = hash_password(password)
    begin_write(session)
    user = user_by_email(session, normalise_email(email))
    if user is None:
        raise AccountError("No account has that email address.", "email")
    user.password_hash = new_hash
    user.end_sessions()
    return user


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(func.lower(User.display_name))))


def set_disabled(session: Session, viewer, user_id: int, disabled: bool) -> User:
    """A disabled account cannot sign in, and its open sessions end on their next request;
    enabling it again brings none of them back."""
    if not viewer.is_admin:
        raise AccountError("Only site administrators can do that.")
    if user_id == viewer.id:
        raise AccountError("You cannot disable your own account.")
    begin_write(session)
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("No such account.")
    user.is_disabled = disabled
    if disabled:
        user.end_sessions()
    return user
