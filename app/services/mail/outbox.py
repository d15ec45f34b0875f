"""The outbox: a row per message, written with the notice it tells of; ``send-mail`` drains it.

Nothing is sent inside a request. A drain claims one row at a time (a conditional UPDATE from
"queued" to "sending", after a ``FOR UPDATE SKIP LOCKED`` pick on PostgreSQL; SQLite's write
lock serialises the claims), commits the claim, composes and sends, then marks the row sent: two
drains at once (two servers' cron) never take the same row.

At most once: a drain that dies between handing a message to the server and marking it sent
leaves its row "sending". The next drain cannot know whether the server took the message, and
gives the row up (failed, saying so) rather than risk sending it twice; an SMTP error is known
not to have delivered, and is tried again later (``backoff``) up to ``max_attempts`` times.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app, has_app_context
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.database import begin_write
from app.models import MailMode, MailOutbox, Notification, OutboxStatus
from app.models.base import utcnow
from app.services.mail import compose, preferences
from app.services.mail.transport import Transport, Uncarried, Unconfirmed

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=6)
# How long the rows of what went (or had nothing to tell) are kept, and those given up, for a
# look at what happened; a digest's notices go with it.
KEEP_DONE = timedelta(days=30)
KEEP_FAILED = timedelta(days=90)
# Mails of single notices a reader gets in an hour, whatever they chose: past that (a member
# with a script answering them a thousand times) the rest wait for their next daily digest.
IMMEDIATE_PER_HOUR = 10
HOUR = timedelta(hours=1)
# A row claimed longer ago than this belongs to a drain that died while sending it.
CLAIM_LEASE = timedelta(minutes=15)
UNCONFIRMED = "The server took the whole message but did not say it had it: not sent again."
INTERRUPTED = (
    "A drain stopped while sending this message: the server may have taken it. Not sent again, "
    "so that it never arrives twice."
)


def enabled() -> bool:
    """Is mail configured for the app at hand (``SCHOLIA_SMTP_URL``)? If not, nothing is
    queued at all."""
    return has_app_context() and bool(current_app.config.get("SMTP_URL"))


def queue(session: Session, notices: list[Notification]) -> None:
    """A message for each new notice whose reader wants its kind by email, in the notice's own
    transaction: a digest reader's waits ("held") for their next digest."""
    if not notices or not enabled():
        return
    session.flush()  # the notices' ids
    modes = preferences.modes_of(session, (n.user_id for n in notices))
    now = utcnow()
    for notice in notices:
        mode = modes[notice.user_id][notice.kind]
        if mode is MailMode.OFF:
            continue
        session.add(
            MailOutbox(
                key=f"notice-{notice.id}",
                user_id=notice.user_id,
                notification_id=notice.id,
                status=OutboxStatus.HELD if mode is MailMode.DAILY else OutboxStatus.QUEUED,
                next_attempt_at=now,
            )
        )


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 5 min, 10, 20... at most 6 h."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    held: int = 0
    digests: int = 0
    errors: list[str] = field(default_factory=list)


def build_digests(session: Session, now: datetime) -> int:
    """Each reader with notices held for a digest gets today's (UTC) digest, once a day: its
    key, "digest-<user>-<day>", is unique, so a second drain the same day makes none."""
    day = now.date().isoformat()
    begin_write(session)
    readers = session.scalars(
        select(MailOutbox.user_id)
        .where(MailOutbox.status == OutboxStatus.HELD)
        .distinct()
        .order_by(MailOutbox.user_id)
    ).all()
    made = 0
    for user_id in readers:
        key = f"digest-{user_id}-{day}"
        if session.scalar(select(MailOutbox.id).where(MailOutbox.key == key)) is not None:
            continue  # today's went out already: these wait for tomorrow's
        digest = MailOutbox(
            key=key, user_id=user_id, status=OutboxStatus.QUEUED, next_attempt_at=now
        )
        try:
            with session.begin_nested():  # PostgreSQL: another drain may be making it now
                session.add(digest)
        except IntegrityError:
            continue
        session.execute(
            update(MailOutbox)
            .where(MailOutbox.user_id == user_id, MailOutbox.status == OutboxStatus.HELD)
            .values(status=OutboxStatus.DIGESTED, digest_id=digest.id)
        )
        made += 1
    session.commit()
    return made


def _give_up_interrupted(session: Session, now: datetime) -> int:
    begin_write(session)
    result = session.execute(
        update(MailOutbox)
        .where(MailOutbox.status == OutboxStatus.SENDING, MailOutbox.claimed_at < now - CLAIM_LEASE)
        .values(status=OutboxStatus.FAILED, error=INTERRUPTED)
    )
    session.commit()
    return result.rowcount


def _forget_old(session: Session, now: datetime) -> None:
    begin_write(session)
    done = MailOutbox.status.in_([OutboxStatus.SENT, OutboxStatus.DROPPED])
    session.execute(
        delete(MailOutbox).where(
            or_(
                done & (MailOutbox.created_at < now - KEEP_DONE),
                (MailOutbox.status == OutboxStatus.FAILED)
                & (MailOutbox.created_at < now - KEEP_FAILED),
            )
        )
    )
    session.commit()


def _claim(session: Session, now: datetime) -> int | None:
    """The next message due, now this drain's alone (committed as "sending"), or None."""
    while True:
        begin_write(session)
        pick = (
            select(MailOutbox.id)
            .where(MailOutbox.status == OutboxStatus.QUEUED, MailOutbox.next_attempt_at <= now)
            .order_by(MailOutbox.next_attempt_at, MailOutbox.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        row_id = session.scalar(pick)
        if row_id is None:
            session.commit()
            return None
        claimed = session.execute(
            update(MailOutbox)
            .where(MailOutbox.id == row_id, MailOutbox.status == OutboxStatus.QUEUED)
            # The moment of the claim, not ``now``, the run's start: a run past CLAIM_LEASE
            # would have the next one take the message it is sending for a dead run's.
            .values(status=OutboxStatus.SENDING, claimed_at=utcnow())
        ).rowcount
        session.commit()
        if claimed:
            return row_id


def _settle(session: Session, row_id: int, **values) -> None:
    begin_write(session)
    session.execute(update(MailOutbox).where(MailOutbox.id == row_id).values(**values))
    session.commit()


# What the server said of this message alone: the next may go. Anything else (no connection,
# a refused sign-in or sender) is the same for every message: the run stops, all wait.
_THIS_MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, Uncarried)


def _permanent(error: Exception) -> bool:
    """Will the server refuse this message whenever it is sent (a 5xx about it, not about the
    site's settings, which someone may yet put right)?"""
    if isinstance(error, Uncarried):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPDataError) and 500 <= error.smtp_code < 600


@dataclass
class _Claimed:
    """A message this drain has claimed, and what it needs to settle it."""

    row_id: int
    attempts: int
    now: datetime
    max_attempts: int
    report: Report


def _failed(session: Session, claimed: _Claimed, error: Exception, permanent: bool) -> None:
    """Not sent: tried again after a while, or given up (the error kept either way)."""
    attempts = claimed.attempts + 1
    reason = f"{type(error).__name__}: {error}"[:1000]
    claimed.report.errors.append(reason)
    if permanent or attempts >= claimed.max_attempts:
        _settle(
            session, claimed.row_id, status=OutboxStatus.FAILED, attempts=attempts, error=reason
        )
        claimed.report.failed += 1
        return
    _settle(
        session,
        claimed.row_id,
        status=OutboxStatus.QUEUED,
        attempts=attempts,
        error=reason,
        next_attempt_at=claimed.now + backoff(attempts),
        claimed_at=None,
    )
    claimed.report.retried += 1


def _sent_lately(session: Session, user_id: int, now: datetime) -> bool:
    """Has the reader had their hour's worth of mails of single notices?"""
    sent = session.scalar(
        select(func.count(MailOutbox.id)).where(
            MailOutbox.user_id == user_id,
            MailOutbox.notification_id.is_not(None),
            MailOutbox.status == OutboxStatus.SENT,
            MailOutbox.sent_at > now - HOUR,
        )
    )
    return sent >= IMMEDIATE_PER_HOUR


def _compose(session: Session, site: compose.Site, claimed: _Claimed) -> EmailMessage | None:
    """The claimed row's message, or None when it is not to go now (held for a digest, as
    chosen or past the hour's mails; its kind switched off; nothing left to tell: the row says
    which)."""
    row = session.get(MailOutbox, claimed.row_id)
    claimed.attempts = row.attempts
    modes = preferences.modes(session, row.user_id)
    if row.notification_id is not None:
        mode = modes[session.get(Notification, row.notification_id).kind]
        if mode is MailMode.DAILY or _sent_lately(session, row.user_id, claimed.now):
            _settle(session, claimed.row_id, status=OutboxStatus.HELD, claimed_at=None)
            claimed.report.held += 1
            return None
        if mode is MailMode.OFF:
            _settle(session, claimed.row_id, status=OutboxStatus.DROPPED)
            claimed.report.dropped += 1
            return None
    mail = compose.message(session, site, row, modes)
    session.rollback()  # nothing held open while the server answers
    if mail is None:
        _settle(session, claimed.row_id, status=OutboxStatus.DROPPED)
        claimed.report.dropped += 1
    return mail


def _deliver(session: Session, site: compose.Site, transport: Transport, claimed: _Claimed) -> bool:
    """Send one claimed message; False when the server or the settings are at fault (the run
    stops: every message would meet the same)."""
    try:
        mail = _compose(session, site, claimed)
    except Exception as error:
        session.rollback()
        _failed(session, claimed, error, permanent=False)
        return False
    if mail is None:
        return True
    try:
        transport.send(mail)
    except Unconfirmed as error:
        # At most once, as after a drain that died: the server may well have it.
        claimed.report.errors.append(str(error))
        _settle(
            session,
            claimed.row_id,
            status=OutboxStatus.FAILED,
            attempts=claimed.attempts + 1,
            error=f"{UNCONFIRMED} {error}"[:1000],
        )
        claimed.report.failed += 1
        return False
    except (smtplib.SMTPException, OSError) as error:
        _failed(session, claimed, error, _permanent(error))
        # A refused message says nothing of the next; a server out of reach, of all of them.
        return isinstance(error, _THIS_MESSAGE_REFUSED)
    _settle(session, claimed.row_id, status=OutboxStatus.SENT, sent_at=utcnow())
    claimed.report.sent += 1
    return True


def drain(
    session: Session,
    site: compose.Site,
    transport: Transport,
    *,
    now: datetime | None = None,
    digests: bool = False,
    max_attempts: int = MAX_ATTEMPTS,
) -> Report:
    """Send what is due: forget what went long ago, give up on messages a dead drain left
    half-sent, make today's digests if asked, then claim and send one message at a time until
    none is due, or the server cannot be reached (what is left waits for the next run)."""
    now = now or utcnow()
    report = Report()
    _forget_old(session, now)
    report.failed += _give_up_interrupted(session, now)
    if digests:
        report.digests = build_digests(session, now)
    while (row_id := _claim(session, now)) is not None:
        claimed = _Claimed(row_id, 0, now, max_attempts, report)
        if not _deliver(session, site, transport, claimed):
            break
    return report
