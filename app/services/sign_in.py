"""Sign-in with growing delays, and the end of sessions: who may hold an account now."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from app.database import begin_write
from app.models import LoginAttempt, User
from app.models.base import utcnow
from app.models.user import hash_password, password_method
from app.services.accounts import (
    MAX_EMAIL,
    AccountError,
    check_password_rules,
    normalise_email,
    user_by_email,
)
from app.services.devices import Device, nonce_for

MAX_ADDRESS = 64  # LoginAttempt.address
WRONG_CREDENTIALS = "The email address or password is not correct."


class TooManyAttempts(AccountError):
    """Too early after failed attempts: refused before the password is even looked at."""

    def __init__(self, retry_after: timedelta):
        self.retry_after = retry_after
        # What Retry-After says: whole seconds, rounded up, so a client that waits that long
        # is never refused again for being early.
        self.seconds = max(1, math.ceil(retry_after.total_seconds()))
        if self.seconds < 120:
            wait = f"{self.seconds} second{'s' if self.seconds != 1 else ''}"
        else:
            wait = f"{math.ceil(self.seconds / 60)} minutes"
        super().__init__(f"Too many failed sign-in attempts. Please wait {wait} and try again.")


@dataclass(frozen=True)
class LoginPolicy:
    """When failed sign-ins make the next attempt wait (OWASP's scheme with device cookies).

    A browser that signed in to the account before presents a device cookie and is judged by
    its own failures alone. Everyone else is judged by the account's and the address's
    failures from strangers. Within ``window``, past the free failures, the next attempt waits
    ``first_delay`` after the last failure, twice that after one more failure, and so on up to
    ``max_delay``: guessing slows to a crawl, and nobody is ever locked out for good.
    """

    window: timedelta = timedelta(hours=24)
    free_failures_per_account: int = 5
    free_failures_per_address: int = 20
    free_failures_per_device: int = 5
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=15)

    def delay(self, failures: int, free: int) -> timedelta:
        """How long after the last of ``failures`` the next attempt must wait."""
        beyond = failures - free
        if beyond < 0:
            return timedelta(0)
        if beyond >= 40:  # 2**40 s is past any cap, and a timedelta overflows a little later
            return self.max_delay
        return min(self.first_delay * 2**beyond, self.max_delay)


def _dummy_hash() -> str:
    """A hash in the current method, checked when no account has the address: a sign-in for
    an unknown address takes as long as one for a known address."""
    method = password_method()
    if _DUMMY.get("method") != method:
        _DUMMY.update(method=method, hash=hash_password("not a real password"))
    return _DUMMY["hash"]


_DUMMY: dict[str, str] = {}


def _failures(session: Session, where: ColumnElement[bool], since: datetime):
    """How many failed attempts match, and when the last one was."""
    return session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.created_at)).where(
            where, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > since
        )
    ).one()


def _untrusted() -> ColumnElement[bool]:
    return LoginAttempt.device.is_(None)


def _check_delay(
    session: Session,
    email: str,
    address: str,
    device: str | None,
    policy: LoginPolicy,
    now: datetime,
) -> None:
    """Raise TooManyAttempts if an attempt now is too early after the failures that judge it:
    a known device's own, or else the account's and the address's from strangers."""
    if device is not None:
        scopes = [(LoginAttempt.device == device, policy.free_failures_per_device)]
    else:
        scopes = [
            ((LoginAttempt.email == email) & _untrusted(), policy.free_failures_per_account),
            ((LoginAttempt.address == address) & _untrusted(), policy.free_failures_per_address),
        ]
    wait = timedelta(0)
    for where, free in scopes:
        count, last = _failures(session, where, now - policy.window)
        if count and count >= free:
            wait = max(wait, last + policy.delay(count, free) - now)
    if wait > timedelta(0):
        raise TooManyAttempts(wait)


def _serialise_attempts(session: Session, key: str) -> None:
    """Make attempts on one account (or from one address) take turns until they commit.

    SQLite's write lock does this for every attempt at once. PostgreSQL would run two attempts
    side by side, each counting the failures committed before either: a transaction-scoped
    advisory lock makes the second count the first's. It is taken after hashing, so attempts
    wait for each other only for the few statements that count and record.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"sign-in {key}"))))


def authenticate(
    session: Session,
    email: str,
    password: str,
    address: str,
    policy: LoginPolicy,
    *,
    devices: Mapping[int, Device] | None = None,
    now: datetime | None = None,
) -> User:
    """Return the user for these credentials, recording the attempt; raise AccountError if not.

    ``devices`` maps account ids to the known devices the browser's cookie names (their
    signatures checked, services/devices.py): one for this account, earned with its present
    password, vouches for the attempt. An
    attempt that comes too early raises TooManyAttempts without looking at the password, and
    is not recorded. The caller must commit even when this raises anything else, so that the
    failed attempt counts.
    """
    email = normalise_email(email)
    if len(email) > MAX_EMAIL or any(unicodedata.category(c) == "Cc" for c in email):
        raise AccountError(WRONG_CREDENTIALS)  # no account has such an email
    devices = devices or {}
    address = address[:MAX_ADDRESS]
    now = now or utcnow()
    # Check and hash outside the write lock (scrypt is slow), then check again inside it, so
    # concurrent guesses cannot slip past the delay.
    user = user_by_email(session, email)
    device = nonce_for(devices, user.id, user.password_hash) if user else None
    _check_delay(session, email, address, device, policy, now)
    # Hash even for an unknown address, so response time does not reveal which emails have accounts.
    password_ok = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    begin_write(session)
    _serialise_attempts(session, f"account {email}")
    user = user_by_email(session, email)
    device = nonce_for(devices, user.id, user.password_hash) if user else None
    if device is None:
        _serialise_attempts(session, f"address {address}")  # always after the account's
    _check_delay(session, email, address, device, policy, now)
    ok = user is not None and password_ok and not user.is_disabled
    session.add(
        LoginAttempt(email=email, address=address, device=device, succeeded=ok, created_at=now)
    )
    if ok:
        # A success clears the failures of the way it came: a known device's own, or (the
        # password typed right from an unknown place) the account's from unknown places. A
        # reader signing in from their own browser does not clear what a stranger is piling
        # up against the account: that would hand the stranger fresh free guesses.
        if device is not None:
            cleared = LoginAttempt.device == device
        else:
            cleared = (LoginAttempt.email == email) & _untrusted()
        session.execute(delete(LoginAttempt).where(cleared, LoginAttempt.succeeded.is_(False)))
        return user
    if user is not None and password_ok:
        raise AccountError("This account has been disabled. Please contact the site administrator.")
    raise AccountError(WRONG_CREDENTIALS)


def sign_out_everywhere(session: Session, user_id: int) -> None:
    """Sign-out ends every session of the account, on every device, not only this browser's:
    a cookie copied off a shared computer or a stolen laptop stops working too."""
    begin_write(session)
    user = session.get(User, user_id)
    if user is not None:
        user.end_sessions()


def change_password(
    session: Session,
    user_id: int,
    current: str,
    new: str,
    address: str,
    policy: LoginPolicy,
    *,
    devices: Mapping[int, Device] | None = None,
    now: datetime | None = None,
) -> User:
    """Set a new password and end every session begun with the old one.

    The current password is checked as a sign-in is, with its delays, and counts as one: a
    stolen session cannot be used to guess it any faster than the sign-in form allows.
    """
    check_password_rules(new)
    new_hash = hash_password(new)  # before any write lock
    email = session.scalar(select(User.email).where(User.id == user_id))
    if email is None:
        raise AccountError("No such account.")
    try:
        user = authenticate(session, email, current, address, policy, devices=devices, now=now)
    except TooManyAttempts:
        raise
    except AccountError:
        raise AccountError("Your current password is not correct.", "current_password") from None
    user.password_hash = new_hash
    user.end_sessions()
    return user
