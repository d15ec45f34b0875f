"""Mail that arrives: notices queued with the notice, sent by ``send-mail`` to a real SMTP
server (aiosmtpd, started here), once, with no words the reader may not read when it is sent."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

from app.cli import mail_site
from app.cli import send_mail as send_mail_now
from app.config import build_config
from app.extensions import db
from app.models import Annotation, MailMode, MailOutbox, OutboxStatus, Text, User
from app.models.base import utcnow
from app.services import mail
from app.services.errors import Invalid
from app.services.mail import outbox, preferences
from tests.factories import (
    api_note,
    dom,
    fresh,
    make_annotation,
    seminar_of_four,
    sign_in,
    text_of,
)

BASE = "https://scholia.example"
QUOTE = "Rapallo"


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message) per message."""

    def __init__(self):
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [message for rcpt, message in self.received if address in rcpt]

    def words(self) -> str:
        return "\n".join(m.as_string() + m.get_content() for _, m in self.received)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A real SMTP server on a free port, and the app configured to send through it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(
        SMTP_URL=f"smtp://127.0.0.1:{controller.port}",
        BASE_URL=BASE,
        MAIL_FROM="Scholia <mail@scholia.example>",
        MAIL_DIGEST_HOUR=24,  # digests only when a test asks for them
    )
    yield inbox
    controller.stop()


@pytest.fixture
def seminar(app, session, seeded, smtp):
    return seminar_of_four(app, session)


def send_mail(runner, *args: str) -> str:
    result = runner.invoke(args=["send-mail", *args])
    assert result.exit_code == 0, result.output
    return result.output


def drain(app, now=None, digests=False, transport=mail.Transport):
    """A drain as ``send-mail`` runs it, at a moment of the test's choosing."""
    with app.app_context():
        return send_mail_now(app, now=now, digests=digests, transport=transport)


def reply(browser, parent_id: int, body: str) -> None:
    assert browser.post(f"/notes/{parent_id}/reply", body=body).status_code == 302


def outbox_rows(session) -> list[MailOutbox]:
    return list(fresh(session).scalars(select(MailOutbox).order_by(MailOutbox.id)))


def group_note(session, browser, group, body="Why Rapallo?"):
    return make_annotation(
        session, browser.user, seeded_text(session), QUOTE, body=body, group=group
    )


def seeded_text(session):
    return session.scalars(select(Text)).one()


# ---- what arrives ----


def test_a_reply_arrives_once_by_email_with_its_words_a_link_and_one_click_unsubscribe(
    app, session, seminar, smtp, runner
):
    _ida, ann, ben, _cy, group = seminar
    note = group_note(session, ann, group)
    reply(ben, note.id, "Because **Genoa** failed.")
    assert [row.status for row in outbox_rows(session)] == [OutboxStatus.QUEUED]
    assert smtp.received == []  # nothing is sent inside the request

    assert "sent 1" in send_mail(runner)
    (rcpt, message), *others = smtp.received
    assert others == [] and rcpt == [ann.user.email]
    assert message["To"].addresses[0].addr_spec == ann.user.email
    assert message["From"].addresses[0].addr_spec == "mail@scholia.example"
    assert message["Subject"].startswith("Ben Student replied to you on “Rapprochement")
    body = message.get_content()
    answer = fresh(session).scalar(select(func.max(Annotation.id)))
    assert "Because **Genoa** failed." in body and f"{BASE}/notes/{answer}" in body
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith(f"<{BASE}/auth/unsubscribe/")

    send_mail(runner)  # a second run sends nothing again
    assert len(smtp.received) == 1
    assert [row.status for row in outbox_rows(session)] == [OutboxStatus.SENT]


def test_a_mention_reaches_the_member_named_and_nobody_else(app, session, seminar, smtp, runner):
    ida, ann, _ben, _cy, group = seminar
    api_note(
        ida, seeded_text(session), QUOTE, "@Ann Student what did Genoa change?", "group", group
    )
    send_mail(runner)
    assert [rcpt for rcpt, _ in smtp.received] == [[ann.user.email]]
    message = smtp.to(ann.user.email)[0]
    assert message["Subject"].startswith("Ida Teacher mentioned you on “")
    assert "what did Genoa change?" in message.get_content()


def test_a_flag_is_mailed_to_the_instructor_with_the_reason_and_the_note(
    app, session, seminar, smtp, runner
):
    ida, ann, ben, _cy, group = seminar
    note = group_note(session, ann, group, body="Rude words here")
    assert ben.post(f"/notes/{note.id}/flag", reason="This is unkind").status_code == 302
    send_mail(runner)
    assert [rcpt for rcpt, _ in smtp.received] == [[ida.user.email]]
    body = smtp.to(ida.user.email)[0].get_content()
    assert "This is unkind" in body and "Rude words here" in body and "Ben Student" in body


def test_a_daily_digest_collects_the_days_notices_into_one_mail_once_a_day(
    app, session, seminar, smtp, runner
):
    ida, ann, ben, _cy, group = seminar
    response = ann.post("/auth/account/mail", reply="daily", mention="daily", flag="off")
    assert response.status_code == 302
    note = group_note(session, ann, group)
    reply(ben, note.id, "First answer")
    reply(ida, note.id, "Second answer")
    send_mail(runner, "--no-digest")
    assert smtp.received == []  # held for the digest

    send_mail(runner, "--digest")
    (rcpt, digest), *others = smtp.received
    assert others == [] and rcpt == [ann.user.email]
    assert digest["Subject"] == "Your Scholia digest: 2 notices"
    assert "First answer" in digest.get_content() and "Second answer" in digest.get_content()

    reply(ben, note.id, "Third answer")
    send_mail(runner, "--digest")  # today's digest has gone: this waits for tomorrow's
    assert len(smtp.received) == 1
    drain(app, now=utcnow() + timedelta(days=1), digests=True)
    assert len(smtp.received) == 2
    tomorrow = smtp.received[1][1].get_content()
    assert "Third answer" in tomorrow and "First answer" not in tomorrow


def test_off_queues_nothing_and_turning_it_off_later_drops_what_waits(
    app, session, seminar, smtp, runner
):
    ida, ann, ben, _cy, group = seminar
    note = group_note(session, ann, group)
    reply(ben, note.id, "Queued while Ann still wanted mail")
    assert ann.post("/auth/account/mail", reply="off", mention="off", flag="off").status_code == 302
    reply(ida, note.id, "Never queued")
    assert len(outbox_rows(session)) == 1
    send_mail(runner)
    assert smtp.received == []
    assert [row.status for row in outbox_rows(session)] == [OutboxStatus.DROPPED]


def test_the_account_page_shows_and_keeps_the_choices_and_refuses_nonsense(
    app, session, seminar, smtp
):
    _ida, ann, *_ = seminar
    page = dom(ann.html("/auth/account"))
    assert page.select_one("#reply option[selected]")["value"] == "immediate"
    assert (
        ann.post("/auth/account/mail", reply="daily", mention="off", flag="immediate").status_code
        == 302
    )
    page = dom(ann.html("/auth/account"))
    chosen = {s["id"]: s.select_one("option[selected]")["value"] for s in page.select("select")}
    assert chosen == {"reply": "daily", "mention": "off", "flag": "immediate"}
    assert (
        ann.post("/auth/account/mail", reply="hourly", mention="off", flag="off").status_code == 400
    )
    assert mail_modes(app, ann.user.id)["reply"] is MailMode.DAILY


def mail_modes(app, user_id):
    with app.app_context():
        return {kind.value: mode for kind, mode in mail.modes(db.session, user_id).items()}


# ---- unsubscribe ----


def mailed_note(session, seminar, smtp, runner):
    """Ann's note, Ben's reply to it mailed to her: the note and her mail's unsubscribe path."""
    _ida, ann, ben, _cy, group = seminar
    note = group_note(session, ann, group)
    reply(ben, note.id, "An answer")
    send_mail(runner)
    (_, message), *_ = smtp.received
    return note, urlsplit(message["List-Unsubscribe"].strip("<>")).path


def test_one_click_unsubscribe_works_without_signing_in_or_a_csrf_token(
    app, session, seminar, smtp, runner
):
    ida, ann, *_ = seminar
    note, path = mailed_note(session, seminar, smtp, runner)
    stranger = app.test_client()

    page = stranger.get(path)  # a scanner following the link changes nothing
    assert page.status_code == 200
    assert dom(page.get_data(as_text=True)).select_one(f'form[action="{path}"] button')
    assert mail_modes(app, ann.user.id)["reply"] is MailMode.IMMEDIATE

    # RFC 8058: the mail program POSTs this body to the List-Unsubscribe address.
    done = stranger.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert set(mail_modes(app, ann.user.id).values()) == {MailMode.OFF}
    reply(ida, note.id, "Not mailed")
    send_mail(runner)
    assert len(smtp.received) == 1


def test_the_unsubscribe_pages_button_needs_its_csrf_token(app, session, seminar, smtp, runner):
    _, ann, *_ = seminar
    _, path = mailed_note(session, seminar, smtp, runner)
    visitor = app.test_client()
    assert visitor.post(path).status_code == 400  # neither one-click nor the page's token
    assert mail_modes(app, ann.user.id)["reply"] is MailMode.IMMEDIATE
    form = dom(visitor.get(path).get_data(as_text=True)).select_one(f'form[action="{path}"]')
    token = form.select_one('input[name="csrf_token"]')["value"]
    assert visitor.post(path, data={"csrf_token": token}).status_code == 200
    assert set(mail_modes(app, ann.user.id).values()) == {MailMode.OFF}


@pytest.mark.parametrize("tamper", ["garbage", "altered", "expired"])
def test_a_bad_or_old_unsubscribe_link_is_a_clear_400(app, session, smtp, tamper, monkeypatch):
    user = sign_in(app, session, "Ann Student").user
    if tamper == "expired":  # a link from a mail sent longer ago than links last
        made = time.time() - preferences.UNSUBSCRIBE_MAX_AGE - 60
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _signer: int(made))
    with app.app_context():
        token = mail.unsubscribe_token(mail_site(app).keys, user.id)
    monkeypatch.undo()
    if tamper == "garbage":
        token = "not-a-token"
    elif tamper == "altered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    client = app.test_client()
    for response in (
        client.get(f"/auth/unsubscribe/{token}"),
        client.post(f"/auth/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}),
    ):
        assert response.status_code == 400
        assert "This unsubscribe link is not valid" in response.get_data(as_text=True)
    assert set(mail_modes(app, user.id).values()) == {MailMode.IMMEDIATE}


# ---- failures, retries, two drains ----


def dead_url() -> str:
    return f"smtp://127.0.0.1:{free_port()}?timeout=2"  # nothing listens there


def test_a_server_that_is_down_is_tried_again_later_and_the_mail_then_sent_once(
    app, session, seminar, smtp, runner
):
    _ida, ann, ben, _cy, group = seminar
    good = app.config["SMTP_URL"]
    note = group_note(session, ann, group)
    reply(ben, note.id, "An answer")
    app.config["SMTP_URL"] = dead_url()
    send_mail(runner)
    (row,) = outbox_rows(session)
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 1)
    assert row.error and "Connection" in row.error
    assert row.next_attempt_at > utcnow()

    app.config["SMTP_URL"] = good
    send_mail(runner)
    assert smtp.received == []  # not due yet
    drain(app, now=row.next_attempt_at)
    drain(app, now=row.next_attempt_at + timedelta(hours=1))
    assert [rcpt for rcpt, _ in smtp.received] == [[ann.user.email]]
    assert outbox_rows(session)[0].status is OutboxStatus.SENT


def test_after_the_last_attempt_the_mail_is_given_up_with_its_error(
    app, session, seminar, smtp, runner
):
    _ida, ann, ben, _cy, group = seminar
    good = app.config["SMTP_URL"]
    app.config.update(SMTP_URL=dead_url(), MAIL_MAX_ATTEMPTS=2)
    reply(ben, group_note(session, ann, group).id, "An answer")
    drain(app)
    drain(app, now=utcnow() + timedelta(hours=1))
    (row,) = outbox_rows(session)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 2)
    assert row.error
    app.config["SMTP_URL"] = good
    drain(app, now=utcnow() + timedelta(days=1))
    assert smtp.received == []


def test_a_broken_sender_setting_keeps_the_mail_for_when_it_is_put_right(
    app, session, seminar, smtp, runner
):
    _, ann, ben, _, group = seminar
    reply(ben, group_note(session, ann, group).id, "An answer")
    app.config["MAIL_FROM"] = "Scholia <mail@scholia.example>\nBcc: victim@evil.example"
    send_mail(runner)
    (row,) = outbox_rows(session)
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 1) and "ValueError" in row.error
    app.config["MAIL_FROM"] = "Scholia <mail@scholia.example>"
    drain(app, now=row.next_attempt_at)
    assert [rcpt for rcpt, _ in smtp.received] == [[ann.user.email]]


class DiesAfterSending(mail.Transport):
    """The drain's process dies once the server has taken the message, before it is marked."""

    def send(self, message):
        super().send(message)
        raise KeyboardInterrupt


def test_a_drain_that_dies_after_sending_never_makes_the_next_send_it_again(
    app, session, seminar, smtp
):
    _ida, ann, ben, _cy, group = seminar
    reply(ben, group_note(session, ann, group).id, "An answer")
    with pytest.raises(KeyboardInterrupt):
        drain(app, transport=DiesAfterSending)
    assert len(smtp.received) == 1
    drain(app, now=utcnow() + timedelta(hours=1))
    assert len(smtp.received) == 1
    (row,) = outbox_rows(session)
    assert row.status is OutboxStatus.FAILED and row.error == outbox.INTERRUPTED


def drains_at_once(app, **options) -> list[Exception]:
    """Two drains started at the same moment, as two servers' cron would: what either raised."""
    start = threading.Barrier(2)
    failures = []

    def run():
        try:
            start.wait()
            drain(app, **options)
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_two_drains_at_once_send_each_message_once(app, session, seminar, smtp):
    _ida, ann, ben, _cy, group = seminar
    notes = [group_note(session, ann, group, body=f"Note {n}") for n in range(6)]
    for n, note in enumerate(notes):
        reply(ben, note.id, f"Answer {n}")
    assert drains_at_once(app) == []
    ids = sorted(m["Message-ID"] for _, m in smtp.received)
    assert len(ids) == 6 and len(set(ids)) == 6
    assert {row.status for row in outbox_rows(session)} == {OutboxStatus.SENT}


# ---- no private words of anyone else ----


@pytest.mark.parametrize("change", ["deleted", "hidden"])
def test_a_reply_deleted_or_hidden_before_sending_is_not_mailed(
    app, session, seminar, smtp, runner, change
):
    ida, ann, ben, _cy, group = seminar
    note = group_note(session, ann, group)
    reply(ben, note.id, "Secret answer")
    answer = fresh(session).scalar(select(func.max(Annotation.id)))
    if change == "deleted":
        assert ben.post(f"/notes/{answer}/delete").status_code == 302
    else:
        assert ida.post(f"/notes/{answer}/hide", hidden="1").status_code == 302
    send_mail(runner)
    assert "Secret answer" not in smtp.words()
    assert smtp.received == []
    assert [row.status for row in outbox_rows(session)] == [OutboxStatus.DROPPED]


@pytest.mark.parametrize("change", ["moved", "removed", "disabled"])
def test_a_mention_is_not_mailed_once_its_reader_may_no_longer_read_it(
    app, session, seminar, smtp, runner, change
):
    ida, _ann, ben, _cy, group = seminar
    note = api_note(ida, seeded_text(session), QUOTE, "@Ben Student secret plan", "group", group)
    if change == "moved":
        response = ida.post(f"/notes/{note}/visibility", audience="private", confirm="1")
        assert response.status_code == 302
    elif change == "removed":
        assert ida.post(f"/groups/{group.id}/members/{ben.user.id}/remove").status_code == 302
    else:
        fresh(session).get(User, ben.user.id).is_disabled = True
        session.commit()
    send_mail(runner)
    assert "secret plan" not in smtp.words()
    assert smtp.received == []


def test_a_flag_mail_goes_only_while_its_reader_moderates_the_note(
    app, session, seminar, smtp, runner
):
    ida, ann, ben, _cy, group = seminar
    role = f"/groups/{group.id}/members/{ben.user.id}/role"
    assert ida.post(role, role="instructor").status_code == 302
    note = group_note(session, ida, group, body="Rude words here")
    assert ann.post(f"/notes/{note.id}/flag", reason="This is unkind").status_code == 302
    assert [row.user_id for row in outbox_rows(session)] == [ben.user.id]
    assert ida.post(role, role="member").status_code == 302  # Ben moderates no more
    send_mail(runner)
    assert "This is unkind" not in smtp.words() and "Rude words" not in smtp.words()
    assert smtp.received == []


def test_names_cannot_inject_headers_or_recipients(app, session, seminar, smtp, runner):
    _ida, ann, ben, _cy, group = seminar
    note = group_note(session, ann, group)
    # Stored as is, past the account rules that refuse control characters: the mail must hold.
    fresh(session).get(User, ben.user.id).display_name = "Ben\r\nBcc: victim@evil.example"
    session.get(User, ann.user.id).display_name = 'Ann, "x" <other@evil.example>'
    session.commit()
    reply(ben, note.id, "An answer")
    send_mail(runner)
    (rcpt, message), *others = smtp.received
    assert others == [] and rcpt == [ann.user.email]
    assert message["Bcc"] is None
    assert [a.addr_spec for a in message["To"].addresses] == [ann.user.email]
    assert "\n" not in message["Subject"] and message["Subject"].startswith("Ben Bcc:")


# ---- the server's address ----


def test_the_smtp_url_names_the_server_its_tls_and_its_credentials():
    plain = mail.SmtpServer.from_url("smtp://localhost")
    assert (plain.host, plain.port, plain.tls, plain.starttls, plain.user) == (
        "localhost",
        25,
        False,
        False,
        None,
    )
    upgraded = mail.SmtpServer.from_url("smtp://me%40example.org:p%3Ass@mx.example:587?starttls=1")
    assert (upgraded.port, upgraded.starttls, upgraded.user, upgraded.password) == (
        587,
        True,
        "me@example.org",
        "p:ss",
    )
    wrapped = mail.SmtpServer.from_url("smtps://mx.example?timeout=5")
    assert (wrapped.port, wrapped.tls, wrapped.timeout) == (465, True, 5.0)
    for nonsense in ("ftp://mx.example", "smtp://", "smtp://mx.example:port", "mx.example"):
        with pytest.raises(Invalid):
            mail.SmtpServer.from_url(nonsense)


@pytest.mark.parametrize(("setting", "hour"), [("30", 23), ("-2", 0), ("9", 9)])
def test_a_digest_hour_outside_the_day_is_the_nearest_hour_of_it(
    tmp_path, monkeypatch, setting, hour
):
    """24 or more would make no digest ever, with nothing said."""
    monkeypatch.setenv("SCHOLIA_MAIL_DIGEST_HOUR", setting)
    assert build_config(str(tmp_path))["MAIL_DIGEST_HOUR"] == hour


def test_send_mail_signs_in_with_the_urls_credentials_and_a_refusal_is_tried_again(
    app, session, seminar, runner
):
    _, ann, ben, _, group = seminar
    logins = []

    def authenticator(server, smtp_session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"p:ss", handled=False)  # else a 535

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,  # a test server on loopback; real ones want TLS first
        auth_exclude_mechanism=["LOGIN"],  # smtplib then tries PLAIN alone
    )
    controller.start()
    try:
        url = f"smtp://me%40example.org:{{}}@127.0.0.1:{controller.port}?timeout=5"
        reply(ben, group_note(session, ann, group).id, "An answer")
        app.config["SMTP_URL"] = url.format("wrong")
        send_mail(runner)  # the site's setting is wrong, not the message: it waits
        (row,) = outbox_rows(session)
        assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 1)
        assert "SMTPAuthenticationError" in row.error
        app.config["SMTP_URL"] = url.format("p%3Ass")
        drain(app, now=row.next_attempt_at)
    finally:
        controller.stop()
    assert logins == [(b"me@example.org", b"wrong"), (b"me@example.org", b"p:ss")]
    assert [rcpt for rcpt, _ in inbox.received] == [[ann.user.email]]


def test_send_mail_refuses_an_smtp_url_that_is_not_one(app, runner):
    app.config["SMTP_URL"] = "http://mail.example"
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code != 0 and "SCHOLIA_SMTP_URL must look like" in result.output


# ---- no SMTP, no queue ----


def test_without_smtp_nothing_is_queued_and_send_mail_says_why(app, session, seeded, runner):
    _ida, ann, ben, _cy, group = seminar_of_four(app, session)
    note = group_note(session, ann, group)
    reply(ben, note.id, "An answer")
    assert ben.post(f"/notes/{note.id}/flag", reason="Unkind").status_code == 302
    assert outbox_rows(session) == []
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code != 0 and "SCHOLIA_SMTP_URL" in result.output
    page = dom(ann.html("/auth/account"))
    assert page.select("#mail-heading ~ form select") == []
    assert "This site sends no email" in text_of(page)


def test_what_went_is_forgotten_after_a_month_and_never_sent_again(
    app, session, seminar, smtp, runner
):
    _, ann, ben, _, group = seminar
    reply(ben, group_note(session, ann, group).id, "An answer")
    send_mail(runner)
    drain(app, now=utcnow() + outbox.KEEP_DONE - timedelta(hours=1))
    assert [row.status for row in outbox_rows(session)] == [OutboxStatus.SENT]
    drain(app, now=utcnow() + outbox.KEEP_DONE + timedelta(hours=1))
    assert outbox_rows(session) == []
    assert len(smtp.received) == 1
