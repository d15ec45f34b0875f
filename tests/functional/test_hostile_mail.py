"""The mail, attacked: what a hostile member (or server) can make it carry, send, or send twice."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from email_validator import validate_email

from app.cli import send_mail as send_mail_now
from app.models import MailMode, OutboxStatus, User
from app.models.base import utcnow
from app.services import mail
from app.services.accounts import MAX_DISPLAY_NAME, clean_display_name, normalise_email
from app.services.mail import compose, outbox
from tests.factories import fresh, make_group
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


@contextmanager
def serving(app, handler: test_mail.Inbox, query: str = "", **options):
    """Mail goes through an SMTP server of the test's own (``handler``) while inside."""
    controller = Controller(handler, hostname="127.0.0.1", port=test_mail.free_port(), **options)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}{query}"
    try:
        yield handler
    finally:
        controller.stop()


class SlowToAnswer(test_mail.Inbox):
    """Takes the first message, and answers its end of data only after the client has given up
    waiting: the client cannot know it arrived."""

    def __init__(self, gate: threading.Event):
        super().__init__()
        self.gate = gate

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received) == 1:
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 10)
        return answer


def test_a_server_silent_after_the_whole_message_is_not_sent_it_again(
    app, session, seminar, smtp, runner
):
    _ida, ann, ben, _cy, group = seminar
    reply(ben, group_note(session, ann, group).id, "An answer")
    gate = threading.Event()
    with serving(app, SlowToAnswer(gate), "?timeout=1") as slow:
        test_mail.drain(app)
        gate.set()
        (row,) = test_mail.outbox_rows(session)
        assert row.status is OutboxStatus.FAILED and row.error.startswith(outbox.UNCONFIRMED)
        test_mail.drain(app, now=utcnow() + timedelta(days=1))
    assert len(slow.received) == 1  # the reader has it once


class Refuses(test_mail.Inbox):
    """Answers the end of the first message's data with ``answer``, takes the others."""

    def __init__(self, answer: str):
        super().__init__()
        self.answer = answer
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if not self.refused:
            self.refused += 1
            return self.answer
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("451 4.3.0 Try again later", OutboxStatus.QUEUED),
        ("554 5.7.1 Rejected", OutboxStatus.FAILED),
    ],
)
def test_a_message_refused_after_its_data_is_retried_or_given_up_and_the_next_goes(
    app, session, seminar, smtp, answer, status
):
    _ida, ann, ben, _cy, group = seminar
    for n in range(2):
        reply(ben, group_note(session, ann, group, body=f"Note {n}").id, f"Answer {n}")
    with serving(app, Refuses(answer)) as server:
        test_mail.drain(app)
        first, second = test_mail.outbox_rows(session)
        assert (first.status, first.attempts) == (status, 1) and answer[:3] in first.error
        assert second.status is OutboxStatus.SENT and len(server.received) == 1
        test_mail.drain(app, now=utcnow() + timedelta(hours=1))
    assert len(server.received) == (2 if status is OutboxStatus.QUEUED else 1)


def test_an_address_the_server_cannot_carry_fails_alone_and_the_run_goes_on(
    app, session, seminar, smtp
):
    ida, ann, ben, _cy, group = seminar
    address = "zoë@example.org"  # needs SMTPUTF8
    assert normalise_email(address) == address
    validate_email(address, check_deliverability=False)  # as registration checks it
    fresh(session).get(User, ann.user.id).email = address
    session.commit()
    reply(ben, group_note(session, ann, group).id, "To Zoë")
    reply(ben, group_note(session, ida, group).id, "To Ida")
    with serving(app, test_mail.Inbox(), enable_SMTPUTF8=False) as ascii_only:
        test_mail.drain(app)
    zoe, to_ida = test_mail.outbox_rows(session)
    assert zoe.status is OutboxStatus.FAILED and "SMTPUTF8" in zoe.error
    assert to_ida.status is OutboxStatus.SENT
    assert [rcpt for rcpt, _ in ascii_only.received] == [[ida.user.email]]


def test_a_member_flooding_replies_sends_a_few_mails_an_hour_and_the_rest_in_one_bounded_digest(
    app, session, seminar, smtp
):
    _ida, ann, ben, _cy, group = seminar
    app.config.update(WRITES_PER_MINUTE=0, WRITES_PER_DAY=0)  # a script well within a day's 1,000
    note = group_note(session, ann, group)
    flood = 120
    for n in range(flood):
        reply(ben, note.id, f"Spam {n:03} " + "words " * 200)
    rows = test_mail.outbox_rows(session)
    assert len(rows) == flood  # one row a notice, no more

    test_mail.drain(app)
    assert len(smtp.received) == outbox.IMMEDIATE_PER_HOUR
    test_mail.drain(app, now=utcnow() + timedelta(minutes=10))
    assert len(smtp.received) == outbox.IMMEDIATE_PER_HOUR  # the hour is not over

    test_mail.drain(app, now=utcnow() + timedelta(minutes=20), digests=True)
    (_rcpt, digest), *_ = smtp.received[outbox.IMMEDIATE_PER_HOUR :]
    assert len(smtp.received) == outbox.IMMEDIATE_PER_HOUR + 1
    rest = flood - outbox.IMMEDIATE_PER_HOUR
    assert digest["Subject"] == f"Your Scholia digest: {rest} notices"
    body = digest.get_content()
    assert body.count("Spam ") == compose.DIGEST_ENTRIES
    assert f"and {rest - compose.DIGEST_ENTRIES} more" in body and f"{test_mail.BASE}/inbox" in body
    assert len(digest.as_bytes()) < 200_000


def test_a_digest_of_two_groups_tells_only_what_its_reader_may_still_read_and_no_outsider(
    app, session, seminar, smtp
):
    ida, ann, ben, cy, group = seminar
    other = make_group(session, cy.user, ann.user, name="Cy's circle")
    assert (
        ann.post("/auth/account/mail", reply="daily", mention="daily", flag="off").status_code
        == 302
    )
    in_first = group_note(session, ann, group)
    in_other = group_note(session, ann, other)
    reply(ben, in_first.id, "Ida's seminar only, @Cy Outsider")  # Cy is not of this group
    reply(cy, in_other.id, "Cy's circle answers")
    assert {row.user_id for row in test_mail.outbox_rows(session)} == {ann.user.id}
    assert ida.post(f"/groups/{group.id}/members/{ann.user.id}/remove").status_code == 302

    test_mail.drain(app, digests=True)
    ((rcpt, digest),) = smtp.received
    assert rcpt == [ann.user.email] and digest["Subject"] == "Your Scholia digest: 1 notice"
    assert "Cy's circle answers" in digest.get_content()
    assert "Ida's seminar only" not in smtp.words()


def test_the_email_choices_form_needs_its_csrf_token(app, session, seminar, smtp):
    _ida, ann, *_ = seminar
    forged = ann.client.post(
        "/auth/account/mail", data={"reply": "off", "mention": "off", "flag": "off"}
    )
    assert forged.status_code == 400
    assert set(test_mail.mail_modes(app, ann.user.id).values()) == {MailMode.IMMEDIATE}


def test_the_cleanup_forgets_nothing_still_to_send(app, session, seminar, smtp):
    _ida, ann, ben, _cy, group = seminar
    assert (
        ann.post("/auth/account/mail", reply="daily", mention="off", flag="off").status_code == 302
    )
    reply(ben, group_note(session, ann, group).id, "Held for a digest no run made")
    later = utcnow() + outbox.KEEP_FAILED + timedelta(days=1)
    test_mail.drain(app, now=later)  # the cleanup runs first
    (row,) = test_mail.outbox_rows(session)
    assert row.status is OutboxStatus.HELD
    test_mail.drain(app, now=later, digests=True)
    assert "Held for a digest no run made" in smtp.words()


def test_very_long_non_ascii_names_and_titles_make_a_valid_short_subject(
    app, session, seminar, smtp
):
    _ida, ann, ben, _cy, group = seminar
    name = clean_display_name("Zoë Ἀθηνᾶ " * (MAX_DISPLAY_NAME // 11))
    note = group_note(session, ann, group)
    fresh(session).get(User, ben.user.id).display_name = name
    session.get(User, ann.user.id).display_name = name
    note.text.title = ("Жизнь 🙂 " * 40)[:300]  # the longest a title may be
    session.commit()
    reply(ben, note.id, "An answer")
    test_mail.drain(app)
    ((rcpt, message),) = smtp.received
    assert rcpt == [ann.user.email]
    subject = message["Subject"]
    assert subject.startswith("Zoë Ἀθηνᾶ") and "Жизнь 🙂" in subject and len(subject) <= 200
    wire = message.as_bytes(policy=email.policy.SMTP)
    assert max(len(line) for line in wire.split(b"\r\n")) <= 998  # RFC 5322's hard limit


def test_send_mail_warns_when_the_links_in_mail_would_lead_to_localhost(app, smtp, runner):
    app.config["BASE_URL"] = "http://localhost:5000"  # SCHOLIA_BASE_URL left unset
    assert "SCHOLIA_BASE_URL is http://localhost:5000" in send_mail(runner)
    app.config["BASE_URL"] = test_mail.BASE
    assert "SCHOLIA_BASE_URL" not in send_mail(runner)


def test_two_drains_making_digests_at_once_make_one_each_reader(app, session, seminar, smtp):
    ida, ann, ben, _cy, group = seminar
    for browser in (ida, ann):
        choice = {"reply": "daily", "mention": "daily", "flag": "daily"}
        assert browser.post("/auth/account/mail", **choice).status_code == 302
    for n in range(3):
        reply(ben, group_note(session, ann, group, body=f"Ann's {n}").id, f"To Ann {n}")
        reply(ben, group_note(session, ida, group, body=f"Ida's {n}").id, f"To Ida {n}")
    assert test_mail.drains_at_once(app, digests=True) == []
    assert sorted(rcpt for rcpt, _ in smtp.received) == sorted([[ann.user.email], [ida.user.email]])
    assert all(m["Subject"] == "Your Scholia digest: 3 notices" for _, m in smtp.received)


def test_a_long_run_still_sending_is_not_taken_for_a_dead_one_by_the_next(
    app, session, seminar, smtp
):
    _ida, ann, ben, _cy, group = seminar
    reply(ben, group_note(session, ann, group).id, "An answer")
    reports = []

    class NextRunMeanwhile(mail.Transport):
        """While this (long) run sends, cron starts the next one."""

        def send(self, message):
            with app.app_context():
                reports.append(send_mail_now(app, now=utcnow()))
            super().send(message)

    started = utcnow() - outbox.CLAIM_LEASE - timedelta(minutes=5)  # a run begun 20 minutes ago
    (row,) = test_mail.outbox_rows(session)
    row.next_attempt_at = started  # due when it began
    session.commit()
    test_mail.drain(app, now=started, transport=NextRunMeanwhile)
    (row,) = test_mail.outbox_rows(session)
    assert row.status is OutboxStatus.SENT and row.error is None
    assert (reports[0].failed, reports[0].sent) == (0, 0)
    assert len(smtp.received) == 1


def test_a_server_that_never_greets_times_out_and_the_mail_waits_for_the_next_try(
    app, session, seminar, smtp
):
    _ida, ann, ben, _cy, group = seminar
    reply(ben, group_note(session, ann, group).id, "An answer")
    good = app.config["SMTP_URL"]
    with socket.socket() as silent:  # takes the connection, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{silent.getsockname()[1]}?timeout=1"
        report = test_mail.drain(app)
    (row,) = test_mail.outbox_rows(session)
    assert (row.status, row.attempts, report.retried) == (OutboxStatus.QUEUED, 1, 1)
    app.config["SMTP_URL"] = good
    test_mail.drain(app, now=row.next_attempt_at)
    assert [rcpt for rcpt, _ in smtp.received] == [[ann.user.email]]
