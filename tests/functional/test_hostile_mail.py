"""The mail, attacked: what a hostile member (or server) can make it carry, send, or send twice."""

from __future__ import annotations

import email
import email.policy

from app.models import User
from app.services.accounts import clean_display_name
from tests.factories import fresh
from tests.functional import test_mail
from tests.functional.test_mail import group_note, reply, send_mail

# The mail tests' SMTP server (aiosmtpd) and seminar (Ida teaches Ann and Ben; Cy reads alone).
smtp = test_mail.smtp
seminar = test_mail.seminar

# An RFC 2047 encoded word: no control character as typed, a line break once a mail reader (or
# Python's email package, folding the header) decodes it.
REPLY_TO = "=?utf-8?q?=0D=0AReply-To:_phish@evil.example=0D=0A?="


def raw_headers(message: email.message.EmailMessage) -> list[str]:
    """The header names of the message as it went over the wire."""
    wire = message.as_bytes(policy=email.policy.SMTP)
    head = email.message_from_bytes(wire, policy=email.policy.default)
    return [name.lower() for name in head]


def test_an_encoded_word_in_a_name_or_title_cannot_add_a_header(
    app, session, seminar, smtp, runner
):
    _ida, ann, ben, _cy, group = seminar
    name = f"Ben {REPLY_TO}"
    assert clean_display_name(name) == name  # the account rules let it through
    note = group_note(session, ann, group)
    fresh(session).get(User, ben.user.id).display_name = name
    session.get(User, ann.user.id).display_name = f"Ann {REPLY_TO}"
    note.text.title = f"Rapprochement {REPLY_TO}"
    session.commit()
    reply(ben, note.id, "An answer")
    send_mail(runner)
    ((rcpt, message),) = smtp.received
    assert rcpt == [ann.user.email]
    assert message["Reply-To"] is None and "reply-to" not in raw_headers(message)
    assert [a.addr_spec for a in message["To"].addresses] == [ann.user.email]
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
