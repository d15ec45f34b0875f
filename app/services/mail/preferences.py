"""Each reader's choice of email for each kind of notice, and the signed links that turn it off."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.database import begin_write
from app.models import MailMode, MailOutbox, MailPreference, NotificationKind, OutboxStatus, User
from app.services.errors import Malformed

# Someone who never chose hears of each notice by email straight away: what they would miss is
# someone answering them; one click in any mail turns it all off.
DEFAULT = MailMode.IMMEDIATE
KINDS = (NotificationKind.REPLY, NotificationKind.MENTION, NotificationKind.FLAG)
Modes = dict[NotificationKind, MailMode]

# An unsubscribe link works for this long after its mail was sent.
UNSUBSCRIBE_MAX_AGE = 180 * 24 * 3600
_SALT = "scholia.mail.unsubscribe"
BAD_LINK = (
    "This unsubscribe link is not valid, or it is too old. Sign in and choose which email you "
    "get on your account page."
)


def _of(row: MailPreference | None) -> Modes:
    if row is None:
        return dict.fromkeys(KINDS, DEFAULT)
    return {
        NotificationKind.REPLY: row.reply,
        NotificationKind.MENTION: row.mention,
        NotificationKind.FLAG: row.flag,
    }


def modes_of(session: Session, user_ids: Iterable[int]) -> dict[int, Modes]:
    """Each reader's choices, the defaults for those who never chose."""
    ids = sorted(set(user_ids))
    rows = session.scalars(select(MailPreference).where(MailPreference.user_id.in_(ids)))
    found = {row.user_id: row for row in rows}
    return {user_id: _of(found.get(user_id)) for user_id in ids}


def modes(session: Session, user_id: int) -> Modes:
    return modes_of(session, [user_id])[user_id]


def choose(session: Session, user_id: int, choices: Modes) -> None:
    """Store a reader's choices. The notices waiting for their digest are judged again by the
    drain: one of a kind now sent at once goes at the next run, one now off is dropped."""
    begin_write(session)
    row = session.get(MailPreference, user_id)
    if row is None:
        row = MailPreference(user_id=user_id)
        session.add(row)
    merged = {**_of(None), **choices}
    row.reply = merged[NotificationKind.REPLY]
    row.mention = merged[NotificationKind.MENTION]
    row.flag = merged[NotificationKind.FLAG]
    session.execute(
        update(MailOutbox)
        .where(MailOutbox.user_id == user_id, MailOutbox.status == OutboxStatus.HELD)
        .values(status=OutboxStatus.QUEUED)
    )


def unsubscribe(session: Session, user_id: int) -> None:
    """No more email of any kind (the inbox in the app is unchanged). An account deleted since
    its link was sent has nothing left to turn off."""
    if session.get(User, user_id) is None:
        return
    choose(session, user_id, dict.fromkeys(KINDS, MailMode.OFF))


def _serializer(keys: Sequence[str]) -> URLSafeTimedSerializer:
    # The newest key last, as Flask signs with: links signed before a key rotation still work.
    return URLSafeTimedSerializer(list(keys), salt=_SALT)


def unsubscribe_token(keys: Sequence[str], user_id: int) -> str:
    """What an unsubscribe link carries: the reader's id, signed and dated."""
    return _serializer(keys).dumps(user_id)


def read_unsubscribe_token(
    keys: Sequence[str], token: str, max_age: int = UNSUBSCRIBE_MAX_AGE
) -> int:
    """The reader an unsubscribe link is for, or ``Malformed`` (a 400 page) if it was not made
    here, was altered, or is too old."""
    try:
        user_id = _serializer(keys).loads(token, max_age=max_age)
    except BadSignature:
        raise Malformed(BAD_LINK) from None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise Malformed(BAD_LINK)
    return user_id
