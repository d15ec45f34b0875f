"""A message's words, composed when it is sent, for what its reader may read at that moment.

Every notice is judged again by the one access policy (services/access.py) with the reader as
they are now: a note deleted, hidden from them, moved out of their audience, a group they left
or were removed from, an account disabled, a flag no longer theirs to see, leaves nothing to
tell, and no words of anyone else go out. A notice already read in the app is no news either.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.models import Annotation, Flag, MailMode, MailOutbox, Notification, NotificationKind, User
from app.services.access import Action, can, load_viewer
from app.services.mail.preferences import Modes, unsubscribe_token

# How much of a note's words and of a passage a mail quotes: the rest is a click away.
MAX_WORDS = 1500
MAX_QUOTE = 200
# A digest tells this many notices in full; the rest it counts, with a link to the inbox.
DIGEST_ENTRIES = 50


@dataclass(frozen=True)
class Site:
    """What a message needs to know of the site: who sends, where links lead, its keys."""

    sender: str  # "Scholia <scholia@example.org>"
    url_for: Callable[..., str]  # an absolute URL on the site's public address
    keys: Sequence[str]  # signing unsubscribe links, newest last
    base_url: str

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"


# Word joiner: invisible, and it parts "=?" so that no run of a name reads as an RFC 2047
# encoded word, which Python's email package (and the reader's mail program) would decode,
# line breaks and all, into headers of its own choosing.
_PART = "\u2060"


def one_line(value: str, limit: int = 80) -> str:
    """A name or title fit for a header or a line: control characters (line breaks above all,
    which would end a header) and text-direction marks gone, whitespace collapsed, and nothing
    a mail program would decode as an encoded word."""
    kept = "".join(" " if unicodedata.category(c).startswith("C") else c for c in value)
    flat = " ".join(kept.split())
    flat = flat if len(flat) <= limit else flat[: limit - 1] + "…"
    return flat.replace("=?", f"={_PART}?")


def _quoted(words: str, limit: int = MAX_WORDS) -> str:
    words = words.strip()
    if len(words) > limit:
        words = words[: limit - 1].rstrip() + "…"
    return "\n".join("> " + line if line else ">" for line in words.splitlines())


@dataclass(frozen=True)
class Entry:
    subject: str
    body: str


def _passage(session: Session, annotation: Annotation) -> str:
    """The passage of the text a thread is about (texts are public), or nothing."""
    exact = annotation.exact
    if exact is None and annotation.root_id is not None:
        exact = session.scalar(select(Annotation.exact).where(Annotation.id == annotation.root_id))
    if not exact:
        return ""
    return f" (the passage “{one_line(exact, MAX_QUOTE)}”)"


def entry(session: Session, site: Site, notice: Notification) -> Entry | None:
    """What the reader may be told of one notice now, or None: nothing left to tell them."""
    if notice.read_at is not None:
        return None
    reader = load_viewer(session, notice.user_id)  # nobody, if the account is disabled
    annotation = notice.annotation
    if reader.user is None or not can(reader, Action.READ_HIDDEN, annotation):
        return None  # deleted, out of their audience now, or hidden from them
    title = one_line(annotation.text.title)
    author = one_line(annotation.user.display_name)
    link = site.url_for("notes.show", annotation_id=annotation.id)
    passage = _passage(session, annotation)
    if notice.kind is NotificationKind.FLAG:
        flag = notice.flag
        if flag is None or flag.resolved_at is not None:
            return None  # dealt with already: news to nobody
        if not can(reader, Action.SEE_FLAGS, annotation):
            return None  # no longer theirs to moderate
        flagger = one_line(flag.user.display_name)
        return Entry(
            f"{flagger} flagged a note on “{title}”",
            f"{flagger} asks an instructor to look at a note by {author} on “{title}”"
            f"{passage}.\n\nTheir reason:\n{_quoted(flag.reason)}\n\nThe note:\n"
            f"{_quoted(annotation.body_source)}\n\nLook at it: {link}\n",
        )
    did = "replied to you" if notice.kind is NotificationKind.REPLY else "mentioned you"
    return Entry(
        f"{author} {did} on “{title}”",
        f"{author} {did} on “{title}”{passage}:\n\n{_quoted(annotation.body_source)}\n\n"
        f"Read it and answer: {link}\n",
    )


def notices_of(session: Session, row: MailOutbox) -> list[Notification]:
    """The notice of a message, or those of a digest, oldest first."""
    query = select(Notification).options(
        joinedload(Notification.annotation).joinedload(Annotation.user),
        joinedload(Notification.annotation).joinedload(Annotation.text),
        joinedload(Notification.flag).joinedload(Flag.user),
    )
    if row.notification_id is not None:
        query = query.where(Notification.id == row.notification_id)
    else:
        held = select(MailOutbox.notification_id).where(MailOutbox.digest_id == row.id)
        query = query.where(Notification.id.in_(held)).order_by(Notification.id)
    return list(session.scalars(query).unique())


def message(session: Session, site: Site, row: MailOutbox, modes: Modes) -> EmailMessage | None:
    """The message ``row`` stands for, composed now, or None when nothing is left to tell."""
    entries = [
        found
        for notice in notices_of(session, row)
        if modes[notice.kind] is not MailMode.OFF
        and (found := entry(session, site, notice)) is not None
    ]
    if not entries:
        return None
    reader = session.get(User, row.user_id)
    if row.notification_id is not None:
        subject, body = entries[0].subject, entries[0].body
    else:
        subject = f"Your Scholia digest: {_notices(len(entries))}"
        body = "\n\n---\n\n".join(f"{e.subject}\n\n{e.body}" for e in entries[:DIGEST_ENTRIES])
        if len(entries) > DIGEST_ENTRIES:
            more = len(entries) - DIGEST_ENTRIES
            body += f"\n\n---\n\n… and {more} more in your inbox: {site.url_for('discuss.inbox')}\n"
    unsubscribe = site.url_for("auth.unsubscribe", token=unsubscribe_token(site.keys, reader.id))
    account = site.url_for("auth.account")
    mail = EmailMessage()
    mail["Subject"] = one_line(subject, 200)
    mail["From"] = site.sender
    mail["To"] = _address(reader)
    mail["Date"] = format_datetime(row.created_at)
    # The same key for the same message: a mail reader shows a copy sent twice only once.
    mail["Message-ID"] = f"<{row.key}.{row.id}@{site.host}>"
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no autoresponder answers it
    mail["List-Unsubscribe"] = f"<{unsubscribe}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    mail.set_content(
        f"Hello {one_line(reader.display_name)},\n\n{body}\n"
        f"-- \nYou get this email because of your choices on your Scholia account page:\n"
        f"{account}\nNo more email from Scholia, in one click: {unsubscribe}\n"
    )
    return mail


def _notices(count: int) -> str:
    return f"{count} notice{'s' if count != 1 else ''}"


def _address(user: User) -> Address | str:
    """The reader's name and address, quoted as the header needs (a name holding commas,
    quotes or angle brackets names nobody else)."""
    try:
        return Address(display_name=one_line(user.display_name), addr_spec=user.email)
    except (ValueError, IndexError):
        return user.email
