"""Accounts through the real forms: register, sign in, sign out, CSRF, sign-in delays."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import flask
import itsdangerous.timed
import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, insert, select, text

from app.config import build_config
from app.models import LoginAttempt, User
from app.models.base import utcnow
from app.models.user import use_password_method
from app.services import accounts, sign_in
from app.services.devices import SALT as DEVICE_COOKIE_SALT
from app.views.auth import DEVICE_COOKIE
from tests import factories
from tests.conftest import CHEAP_PASSWORD_METHOD, TEST_PASSWORD
from tests.factories import AuthActions, csrf_token, dom, text_of


def _signed_in_as(client, name: str) -> bool:
    """The page header names ``name`` and offers to sign out."""
    page = dom(client.get("/").get_data(as_text=True))
    named = name in [s.get_text() for s in page.select("span.user-name")]
    return named and "Sign out" in [text_of(b) for b in page.select("button")]


def test_register_signs_in_and_stores_a_hash_in_the_configured_method(session, client, auth):
    response = auth.register(email="Ada@Example.org", name="Ada")
    assert response.status_code == 302
    assert _signed_in_as(client, "Ada")
    user = session.scalar(select(User))
    assert user.email == "ada@example.org"
    assert user.password_hash.startswith(CHEAP_PASSWORD_METHOD + "$")  # scrypt's: below
    assert TEST_PASSWORD not in user.password_hash


def test_register_refuses_duplicate_email_whatever_its_case(session, client, auth):
    auth.register(email="ada@example.org")
    auth.logout()
    response = auth.register(email="ADA@example.ORG", name="Impostor")
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(User.id))) == 1


def test_register_refuses_short_password_and_mismatch(client, auth):
    short = auth.register(password="too-short")
    assert short.status_code == 400
    assert "Passwords need 10 to 1024 characters." in short.get_data(as_text=True)
    mismatch = auth.register(password="long enough 1", confirm="long enough 2")
    assert mismatch.status_code == 400
    assert "The passwords differ." in mismatch.get_data(as_text=True)


def test_register_refuses_an_invalid_email(client, auth):
    response = auth.register(email="not-an-address")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_form_errors_are_tied_to_their_fields(client, auth):
    page = dom(auth.register(password="short").get_data(as_text=True))
    password = page.select_one('input[name="password"]')
    assert password["aria-describedby"] == "password-hint password-error"
    assert password["aria-invalid"] == "true"
    assert page.select_one("#password-hint") and page.select_one("#password-error")


def test_login_and_logout(session, client, auth):
    factories.make_user(session, "reader@example.org", "Reader")
    response = auth.login(email="READER@example.org")
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    assert _signed_in_as(client, "Reader")
    response = auth.logout()
    assert response.status_code == 302
    assert not _signed_in_as(client, "Reader")
    # Unsaved notes kept in the browser go with the session (a shared computer's next user).
    assert response.headers["Clear-Site-Data"] == '"storage"'


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(session, client, auth):
    factories.make_user(session, "reader@example.org")
    wrong = auth.login(password="wrong password")
    unknown = auth.login(email="nobody@example.org")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "The email address or password is not correct." in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite_lax(session, client, auth):
    factories.make_user(session, "reader@example.org")
    cookie = auth.login().headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(session, client):
    factories.make_user(session, "reader@example.org")
    page = client.get("/auth/login", base_url="https://scholia.example")
    assert "Secure" in page.headers["Set-Cookie"]


def test_an_unchanged_session_is_renewed_hourly_not_on_every_response(
    app, session, client, auth, monkeypatch
):
    """Re-signing the cookie on every response cost a tenth of a request: once an hour keeps
    the sliding 14-day expiry without it."""
    factories.make_user(session, "reader@example.org")
    assert "Set-Cookie" in auth.login().headers
    client.get("/")  # the first page after sign-in makes the session's CSRF secret: a change
    unchanged = client.get("/")
    assert unchanged.status_code == 200 and "Set-Cookie" not in unchanged.headers

    # The same session as it would be had the cookie been signed two hours ago.
    with client.session_transaction() as current:
        data = dict(current)
    serializer = app.session_interface.get_signing_serializer(app)
    now = time.time()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now - 2 * 3600)
    old_cookie = serializer.dumps(data)
    monkeypatch.undo()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], old_cookie)

    renewed = client.get("/")
    assert "Set-Cookie" in renewed.headers
    assert "reader@example.org" not in renewed.headers["Set-Cookie"]  # signed, not plain
    with client.session_transaction() as after:
        assert after["_user_id"] == data["_user_id"]  # still signed in
    assert "Set-Cookie" not in client.get("/").headers  # and quiet again for an hour


def test_every_request_checks_the_cookies_value_age_and_keys(
    app, session, client, auth, monkeypatch
):
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name).value
    assert _signed_in_as(client, "Reader") and _signed_in_as(client, "Reader")
    signature = cookie.rsplit(".", 1)[1]
    forged = cookie[: -len(signature)] + signature[::-1]
    client.set_cookie(name, forged)
    assert not _signed_in_as(client, "Reader")
    client.set_cookie(name, cookie)
    assert _signed_in_as(client, "Reader")

    app.secret_key = "another key"  # rotated without the old key among the fallbacks
    assert not _signed_in_as(client, "Reader")
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret-key"]
    client.set_cookie(name, cookie)
    assert _signed_in_as(client, "Reader")

    lifetime = app.permanent_session_lifetime.total_seconds()
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + lifetime + 60)
    client.set_cookie(name, cookie)
    assert not _signed_in_as(client, "Reader")


def test_a_cookie_opens_a_session_of_its_own_each_time(app):
    interface = app.session_interface
    serializer = interface.get_signing_serializer(app)
    for data in ({"_user_id": "1"}, {"_flashes": [["info", "Saved."]]}):
        cookie = serializer.dumps(data)
        with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
            first = interface.open_session(app, flask.request)
            first["planted"] = True
            for value in first.values():
                if isinstance(value, list):
                    value.append(["info", "planted"])
            assert dict(interface.open_session(app, flask.request)) == data


def test_login_starts_a_fresh_session(session, client, auth):
    factories.make_user(session, "reader@example.org")
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    auth.login()
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["_user_id"]


def test_post_without_csrf_token_is_refused(session, client):
    factories.make_user(session, "reader@example.org")
    response = client.post(
        "/auth/login", data={"email": "reader@example.org", "password": TEST_PASSWORD}
    )
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert not _signed_in_as(client, "Reader")


def test_logout_needs_post_with_csrf(session, client, auth):
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400
    assert _signed_in_as(client, "Reader")


# ---- sign-in delays: free failures, then waits that double; a known device is judged alone ----

ATTACKER = "192.0.2.66"


def _failures(session, n, *, email="reader@example.org", address=ATTACKER, device=None):
    """``n`` failed attempts a second apart, the last one just now."""
    now = utcnow()
    session.add_all(
        LoginAttempt(
            email=email,
            address=address,
            device=device,
            succeeded=False,
            created_at=now - timedelta(seconds=n - 1 - i),
        )
        for i in range(n)
    )
    session.commit()


def _shift_attempts(session, seconds: float) -> None:
    """Move every recorded attempt into the past, as if that much time had gone by."""
    for attempt in session.scalars(select(LoginAttempt)):
        attempt.created_at = attempt.created_at - timedelta(seconds=seconds)
    session.commit()


def _attempts(session) -> int:
    return session.scalar(select(func.count(LoginAttempt.id)))


def _login_from(client, address, email="reader@example.org", password=TEST_PASSWORD):
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
        environ_base={"REMOTE_ADDR": address},
    )


def _retry_after(response) -> int:
    assert response.status_code == 429, response.status_code
    seconds = int(response.headers["Retry-After"])
    html = response.get_data(as_text=True)
    assert "Too many failed sign-in attempts" in html
    assert "Please wait" in html
    return seconds


def csrf_token_at(client, base: str) -> str:
    """The sign-in form's CSRF token, from the site at ``base``."""
    page = dom(client.get("/auth/login", base_url=base).get_data(as_text=True))
    return page.select_one('form input[name="csrf_token"]')["value"]


def _device_cookie(client):
    return client.get_cookie(DEVICE_COOKIE, path="/auth")


def test_failures_past_the_free_ones_make_each_next_attempt_wait_twice_as_long(
    app, session, client, auth
):
    factories.make_user(session, "reader@example.org", "Reader")
    for _ in range(5):  # free
        assert auth.login(password="wrong password").status_code == 401
    _failures(session, 3)  # eight failures in all, the last just now: the next waits 2**3 s
    before = _attempts(session)
    blocked = auth.login()  # even the right password waits, and is neither checked nor counted
    assert 1 <= _retry_after(blocked) <= 8
    assert f"Please wait {blocked.headers['Retry-After']} second" in blocked.get_data(as_text=True)
    assert _attempts(session) == before
    assert not _signed_in_as(client, "Reader")

    _shift_attempts(session, 8)  # the wait is over: one more try
    assert auth.login(password="wrong password").status_code == 401
    assert 8 < _retry_after(auth.login()) <= 16  # nine failures: 16 s from the last

    _failures(session, 40)  # the wait stops growing at the cap (15 minutes by default)
    assert 14 * 60 < _retry_after(auth.login()) <= 15 * 60
    app.config["LOGIN_MAX_DELAY_MINUTES"] = 2
    assert 60 < _retry_after(auth.login()) <= 120


def test_the_delay_schedule_counts_from_the_last_failure_within_the_window(session):
    """The service's clock is a parameter: the whole schedule, to the second."""
    factories.make_user(session, "reader@example.org")
    policy = sign_in.LoginPolicy(
        window=timedelta(hours=24),
        free_failures_per_account=2,
        free_failures_per_address=100,
        free_failures_per_device=5,
        max_delay=timedelta(seconds=10),
    )
    start = datetime(2031, 5, 1, 12, tzinfo=UTC)

    def attempt(seconds: float, right: bool = False):
        try:
            user = sign_in.authenticate(
                session,
                "reader@example.org",
                TEST_PASSWORD if right else "wrong password",
                ATTACKER,
                policy,
                now=start + timedelta(seconds=seconds),
            )
        except sign_in.TooManyAttempts as error:
            session.rollback()
            return error.retry_after.total_seconds()
        except accounts.AccountError:
            session.commit()
            return "refused"
        session.commit()
        return user.email

    assert attempt(0) == "refused"  # two free failures
    assert attempt(0) == "refused"
    assert attempt(0.25) == 0.75  # the third waits 1 s after the last failure
    assert attempt(1) == "refused"
    assert attempt(2.5) == 0.5  # then 2 s
    assert attempt(3) == "refused"
    assert attempt(6.9) == pytest.approx(0.1)  # then 4 s
    assert attempt(7) == "refused"
    assert attempt(14) == 1  # then 8 s
    assert attempt(15) == "refused"
    assert attempt(24) == 1  # then 16 s, capped at 10
    assert attempt(25, right=True) == "reader@example.org"
    # The success cleared the failures; failures older than the window do not count at all.
    assert attempt(30) == "refused"
    assert attempt(30) == "refused"
    assert attempt(30) == 1
    assert attempt(30 + 24 * 3600 + 1) == "refused"


def test_failures_from_one_address_delay_strangers_from_there_not_elsewhere(
    app, session, client, auth
):
    app.config["LOGIN_FREE_FAILURES_PER_ADDRESS"] = 3
    for n in range(3):
        assert auth.login(email=f"guess{n}@example.org").status_code == 401
    _failures(session, 2, email="guess9@example.org", address="127.0.0.1")  # five: wait 4 s
    factories.make_user(session, "reader@example.org")
    assert 1 <= _retry_after(auth.login()) <= 4
    assert _login_from(client, "192.0.2.7").status_code == 302


def test_attempts_on_one_account_take_turns_on_postgresql(engine, session, client):
    """SQLite's write lock makes concurrent attempts count each other's failures; PostgreSQL
    needs its advisory lock: an attempt waits for the one before to commit, then counts it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the write lock serialises every attempt")
    factories.make_user(session, "reader@example.org")
    data = {"email": "reader@example.org", "password": TEST_PASSWORD}
    data["csrf_token"] = csrf_token(client)
    answers = []
    with engine.connect() as earlier:  # an attempt that has counted and not yet committed
        key = func.hashtext("sign-in account reader@example.org")
        earlier.execute(select(func.pg_advisory_xact_lock(key)))
        thread = threading.Thread(
            target=lambda: answers.append(client.post("/auth/login", data=data))
        )
        thread.start()
        waiting = (
            select(func.count())
            .select_from(text("pg_locks"))
            .where(text("locktype = 'advisory' AND NOT granted"))
        )
        deadline = time.monotonic() + 60
        while not earlier.execute(waiting).scalar() and thread.is_alive():
            assert time.monotonic() < deadline, "the attempt never waited for the earlier one"
            time.sleep(0.01)
        now = utcnow()
        earlier.execute(
            insert(LoginAttempt),
            [
                {"email": data["email"], "address": ATTACKER, "succeeded": False, "created_at": now}
                for _ in range(10)
            ],
        )
        earlier.commit()
    thread.join(timeout=60)
    assert _retry_after(answers[0]) > 16  # ten failures: 32 s from the last


def test_a_known_device_signs_in_while_the_account_is_attacked(app, session, client, auth):
    """OWASP's device cookies: a browser that signed in before is judged by its own failures
    alone, so an attack on the account, or from the same address, does not keep it out."""
    factories.make_user(session, "reader@example.org", "Reader")
    assert auth.login().status_code == 302
    assert _device_cookie(client) is not None
    auth.logout()
    assert _device_cookie(client) is not None  # signing out keeps the device known

    attacker = app.test_client()
    for _ in range(5):
        assert _login_from(attacker, ATTACKER, password="wrong password").status_code == 401
    _failures(session, 30)  # the account is under attack...
    _failures(session, 30, email="someone@example.org", address="127.0.0.1")  # ...and this address
    assert _retry_after(_login_from(attacker, ATTACKER)) > 60  # the right password, from a stranger
    assert _retry_after(AuthActions(app.test_client()).login()) > 60  # a new browser here
    assert auth.login().status_code == 302  # the known browser
    assert _signed_in_as(client, "Reader")
    # ...which does not wipe the stranger's failures: no fresh free guesses for them.
    assert _retry_after(_login_from(attacker, ATTACKER, password="wrong password")) > 60


def test_a_new_password_makes_every_other_device_a_stranger(app, session, client, auth):
    """A thief who copied the device cookie (or earned one with a stolen password) gets no
    free guesses once the reader has changed the password."""
    factories.make_user(session, "reader@example.org", "Reader")
    assert auth.login().status_code == 302
    thief = app.test_client()
    thief.set_cookie(DEVICE_COOKIE, _device_cookie(client).value, path="/auth")
    new_password = "a brand new passphrase"
    changed = client.post(
        "/auth/account",
        data={
            "current_password": TEST_PASSWORD,
            "password": new_password,
            "confirm": new_password,
            "csrf_token": csrf_token(client, "/auth/account"),
        },
    )
    assert changed.status_code == 302
    for _ in range(5):
        assert _login_from(thief, ATTACKER, password="a guess").status_code == 401
    # Those counted against the account, not the thief's copy: a stranger must wait now.
    assert _retry_after(_login_from(app.test_client(), "198.51.100.7", password="guess")) >= 1
    # The reader's own browser was given a device for the new password, and still vouches.
    auth.logout()
    assert auth.login(password=new_password).status_code == 302


def test_a_device_cookie_for_another_account_or_forged_gives_no_trust(app, session, client, auth):
    factories.make_user(session, "reader@example.org", "Reader")
    factories.make_user(session, "mallory@example.org", "Mallory")
    assert auth.login().status_code == 302
    genuine = _device_cookie(client).value
    mallory = app.test_client()
    assert AuthActions(mallory).login("mallory@example.org").status_code == 302
    AuthActions(mallory).logout()
    _failures(session, 30)  # the reader's account is under attack

    assert _retry_after(_login_from(mallory, "127.0.0.1")) > 60  # vouches for Mallory only
    serializer = URLSafeTimedSerializer("another key", salt=DEVICE_COOKIE_SALT)
    _, payload = URLSafeTimedSerializer("x", salt=DEVICE_COOKIE_SALT).loads_unsafe(genuine)
    signature = genuine.rsplit(".", 1)[1]
    for forged in (
        serializer.dumps(payload),  # the same words, signed with another key
        genuine[: -len(signature)] + signature[::-1],  # tampered with
        "not a cookie at all",
        "",
    ):
        stranger = app.test_client()
        stranger.set_cookie(DEVICE_COOKIE, forged, path="/auth")
        assert _retry_after(_login_from(stranger, "127.0.0.1")) > 60, forged
    stranger = app.test_client()
    stranger.set_cookie(DEVICE_COOKIE, genuine, path="/auth")
    assert _login_from(stranger, "127.0.0.1").status_code == 302


def test_a_known_device_has_its_own_delay_which_spares_everyone_else(app, session, client, auth):
    factories.make_user(session, "reader@example.org", "Reader")
    assert auth.login().status_code == 302
    auth.logout()
    for _ in range(5):
        assert auth.login(password="wrong password").status_code == 401
    device = session.scalar(select(LoginAttempt.device).where(LoginAttempt.device.is_not(None)))
    assert device
    _failures(session, 3, address="127.0.0.1", device=device)  # eight from this device: 8 s
    assert 1 <= _retry_after(auth.login()) <= 8
    # Its failures count against neither the account nor the address.
    other = app.test_client()
    assert AuthActions(other).login().status_code == 302
    assert _signed_in_as(other, "Reader")


def test_the_device_cookie_is_long_lived_httponly_lax_and_secure_over_https(app, session):
    factories.make_user(session, "reader@example.org")
    for base in ("http://localhost", "https://scholia.example"):
        browser = app.test_client()
        response = browser.post(
            "/auth/login",
            base_url=base,
            data={
                "email": "reader@example.org",
                "password": TEST_PASSWORD,
                "csrf_token": csrf_token_at(browser, base),
            },
            headers={"Referer": f"{base}/auth/login"},
        )
        assert response.status_code == 302
        [cookie] = [
            c for c in response.headers.getlist("Set-Cookie") if c.startswith(DEVICE_COOKIE)
        ]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/auth" in cookie
        assert ("Secure" in cookie) == base.startswith("https")
        max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))
        assert max_age >= 300 * 24 * 3600


def test_registration_makes_the_browser_a_known_device(client, auth):
    assert auth.register().status_code == 302
    assert _device_cookie(client) is not None


def test_success_clears_earlier_failures(session, client, auth):
    factories.make_user(session, "reader@example.org")
    for _ in range(4):
        auth.login(password="wrong password")
    assert auth.login().status_code == 302
    auth.logout()
    for _ in range(4):
        assert auth.login(password="wrong password").status_code == 401
    assert auth.login().status_code == 302


def test_next_parameter_only_redirects_within_the_site(session, client, auth):
    factories.make_user(session, "reader@example.org")
    local = auth.login(query_string={"next": "/texts/carr-rapprochement"})
    assert local.headers["Location"] == "/texts/carr-rapprochement"
    auth.logout()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = auth.login(query_string={"next": target})
        assert response.headers["Location"] == "/", target
        auth.logout()


def test_disabled_account_cannot_sign_in_and_its_sessions_end(app, session, client, auth):
    user = factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    assert _signed_in_as(client, "Reader")
    user.is_disabled = True
    session.commit()
    assert not _signed_in_as(client, "Reader")
    response = auth.login()
    assert response.status_code == 401
    assert "disabled" in response.get_data(as_text=True)


def test_anonymous_visitors_can_read(client, seeded):
    assert client.get("/").status_code == 200
    assert client.get("/texts/carr-rapprochement").status_code == 200


def test_register_refuses_an_overlong_display_name_without_a_500(client, auth):
    response = auth.register(name="N" * 81)
    assert response.status_code == 400
    assert "80 characters" in response.get_data(as_text=True)


# ---- what a client may send: names, emails and next= that would break something ----


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Ada\tLovelace", "A display name may not contain control characters."),
        ("Ada\x7f", "A display name may not contain control characters."),
        ("Ada\x85", "A display name may not contain control characters."),
        ("Ada \u202eecalevoL", "A display name may not contain text-direction controls."),
        ("\u2067Ada\u2069", "A display name may not contain text-direction controls."),
        ("Ada\u200f", "A display name may not contain text-direction controls."),
        ("Ada\u061c", "A display name may not contain text-direction controls."),
        ("\u200b", "A display name needs at least one visible character."),
        (" \u200b\ufeff \u2060 ", "A display name needs at least one visible character."),
        ("\u3164\u200b", "A display name needs at least one visible character."),
    ],
)
def test_register_refuses_names_that_hide_or_break_text(session, client, auth, name, message):
    response = auth.register(name=name)
    assert response.status_code == 400
    error = dom(response.get_data(as_text=True)).select_one("#display_name-error")
    assert error.get_text().startswith(message)
    assert session.scalar(select(func.count(User.id))) == 0


@pytest.mark.parametrize("name", ["Ada\x00Lovelace", "Ada\x1b[31mLovelace"])
def test_a_name_with_nul_or_escape_is_refused_everywhere(session, client, auth, runner, name):
    """The request's edge (app/edge.py) refuses these in any form; the rule holds without it,
    for the command line and any other way in."""
    response = auth.register(name=name)
    assert response.status_code == 400
    assert "control character" in response.get_data(as_text=True)
    command = runner.invoke(
        args=["create-user", "a@example.org", "--name", name, "--password", "x" * 12]
    )
    assert command.exit_code != 0
    assert "A display name may not contain control characters." in command.output
    assert session.scalar(select(func.count(User.id))) == 0


def test_names_in_any_script_with_joiners_are_welcome(session, client, auth):
    for n, name in enumerate(["محمد الفارسي", "Zoë Ó Briain", "李白", "Ada 👩\u200d💻"]):
        response = auth.register(email=f"r{n}@example.org", name=name)
        assert response.status_code == 302, name
        auth.logout()
    names = set(session.scalars(select(User.display_name)))
    assert names == {"محمد الفارسي", "Zoë Ó Briain", "李白", "Ada 👩\u200d💻"}


def test_emails_are_nfc_normalised_before_lower_casing_and_comparing(session, client, auth):
    assert auth.register(email="Rene\u0301@example.org", name="René").status_code == 302
    assert session.scalar(select(User.email)) == "ren\u00e9@example.org"
    auth.logout()
    twin = auth.register(email="REN\u00c9@example.org", name="Twin")
    assert twin.status_code == 409
    assert auth.login(email="RENE\u0301@example.org").status_code == 302


@pytest.mark.parametrize(
    "email, sign_in",
    [
        ("reader\x00@example.org", 400),  # NUL: refused at the edge, before the form
        ("reader@exam\nple.org", 401),  # a line break is text: no such account
        ("\x00", 400),
    ],
)
def test_an_email_with_control_characters_is_refused_without_an_error(
    session, client, auth, email, sign_in
):
    factories.make_user(session, "reader@example.org")
    assert auth.login(email=email).status_code == sign_in
    register = auth.register(email=email, name="Someone")
    assert register.status_code == 400
    html = register.get_data(as_text=True)
    assert "not valid" in html or "control character" in html  # here, or at the edge
    assert session.scalar(select(func.count(User.id))) == 1


@pytest.mark.parametrize(
    "target",
    [
        "/texts/x\r\nSet-Cookie: planted=1",
        "/texts/x\nLocation: https://evil.example/",
        "/\t/evil.example",  # browsers drop tabs and newlines: this is //evil.example
        "/\r/evil.example",
        "/texts/\x7f",
        "/texts/\u2028",
        "/ texts",
        "javascript:alert(1)",
        "/" + "x" * 3000,
    ],
)
def test_next_with_control_characters_or_worse_falls_back_to_the_library(
    session, client, auth, target
):
    """Such a target once made registration commit the account and then fail with a 500."""
    response = auth.register(query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert session.scalar(select(func.count(User.id))) == 1
    assert _signed_in_as(client, "Reader")
    assert client.get("/auth/login", query_string={"next": target}).headers["Location"] == "/"
    auth.logout()
    response = auth.login(query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_next_keeps_a_plain_path_with_its_query_and_fragment(session, client, auth):
    factories.make_user(session, "reader@example.org")
    target = "/texts/carr-rapprochement?lens=public&focus=3#p3"
    assert auth.login(query_string={"next": target}).headers["Location"] == target


@pytest.mark.parametrize(
    "body",
    [[1, 2], {"email": 5, "password": 7}, {"email": {"a": 1}, "password": ["x"], "confirm": None}],
)
def test_a_json_body_sent_to_the_forms_is_a_400_not_a_500(session, client, auth, body):
    """The forms read form fields only: WTForms cannot take JSON's numbers, lists and objects."""
    factories.make_user(session, "reader@example.org", "Reader")
    token = csrf_token(client, "/auth/login")
    for path in ("/auth/login", "/auth/register"):
        response = client.post(path, json=body, headers={"X-CSRFToken": token})
        assert response.status_code == 400, path
        assert "This field is required." in response.get_data(as_text=True)
    auth.login()
    token = csrf_token(client, "/auth/account")
    response = client.post("/auth/account", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert _signed_in_as(client, "Reader")


def test_production_hashes_passwords_with_scrypt(tmp_path, session, monkeypatch):
    """The suite hashes cheaply (conftest.py); a deployment's default must be the slow one."""
    monkeypatch.delenv("SCHOLIA_PASSWORD_HASH_METHOD", raising=False)
    assert build_config(str(tmp_path))["PASSWORD_HASH_METHOD"] == "scrypt"
    try:
        use_password_method(build_config(str(tmp_path))["PASSWORD_HASH_METHOD"])
        user = factories.make_user(session, "scrypt@example.org")
    finally:
        use_password_method(CHEAP_PASSWORD_METHOD)
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    policy = sign_in.LoginPolicy()
    signed_in = sign_in.authenticate(
        session, "scrypt@example.org", factories.DEFAULT_PASSWORD, "127.0.0.1", policy
    )
    assert signed_in.id == user.id
