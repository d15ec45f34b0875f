"""Known devices: OWASP's "Slow Down Online Guessing Attacks with Device Cookies".

A browser that signed in to an account keeps a signed cookie naming it, with a random nonce; a
sign-in attempt the cookie vouches for is judged by that nonce's failures alone (sign_in.py),
so someone guessing a reader's password elsewhere does not keep the reader out of their own
browser. Each entry also holds a tag of the password it was earned with: a new password (a
reset after a theft, say) leaves every device that knew only the old one a stranger again.

The view reads and writes the cookie; what it holds and whom it vouches for is decided here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer

SALT = "scholia.device-cookie"
MAX_ACCOUNTS = 5  # a shared computer's readers, the latest first
MAX_COOKIE = 4096


@dataclass(frozen=True)
class Device:
    """This browser, as known to one account."""

    user_id: int
    nonce: str
    issued: int  # seconds since the epoch
    password_tag: str


def password_tag(password_hash: str) -> str:
    """A short digest of the account's password hash: it changes with the password."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _serializer(keys: Sequence[str]) -> URLSafeTimedSerializer:
    """Signed with the newest key (last), checked against the older ones too."""
    return URLSafeTimedSerializer(list(keys), salt=SALT)


def read(value: str | None, keys: Sequence[str], lifetime: int, now: int) -> list[Device]:
    """The devices a cookie we signed names; anything else (forged, expired, mangled, from
    before passwords were tagged) vouches for nobody."""
    if not value or len(value) > MAX_COOKIE:
        return []
    try:
        entries = _serializer(keys).loads(value, max_age=lifetime)
    except BadData:
        return []
    known = []
    for entry in entries if isinstance(entries, list) else ():
        if (
            isinstance(entry, list)
            and len(entry) == 4
            and type(entry[0]) is int
            and type(entry[2]) is int
            and all(isinstance(entry[i], str) and 0 < len(entry[i]) <= 64 for i in (1, 3))
            and now - entry[2] <= lifetime
        ):
            known.append(Device(*entry))
    return known[:MAX_ACCOUNTS]


def vouched(known: Sequence[Device]) -> dict[int, Device]:
    """The device this browser is for each account (the latest, if it names one twice)."""
    by_account: dict[int, Device] = {}
    for device in known:
        by_account.setdefault(device.user_id, device)
    return by_account


def nonce_for(devices: Mapping[int, Device], user_id: int, password_hash: str) -> str | None:
    """The nonce that vouches for an attempt on this account, if the browser holds one earned
    with the account's present password."""
    device = devices.get(user_id)
    if device is None or not hmac.compare_digest(device.password_tag, password_tag(password_hash)):
        return None
    return device.nonce


def issue(
    keys: Sequence[str], user_id: int, password_hash: str, known: Sequence[Device], now: int
) -> str:
    """A cookie naming this account first, with a fresh nonce, then the others it named."""
    fresh = Device(user_id, secrets.token_urlsafe(16), now, password_tag(password_hash))
    entries = [fresh, *(d for d in known if d.user_id != user_id)][:MAX_ACCOUNTS]
    return _serializer(keys).dumps(
        [[d.user_id, d.nonce, d.issued, d.password_tag] for d in entries]
    )
