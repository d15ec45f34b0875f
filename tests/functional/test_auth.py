"""Accounts through the real forms: register, sign in, sign out, CSRF, throttling."""

from __future__ import annotations

import time

import flask
import itsdangerous.timed
from sqlalchemy import func, select

from app.models import User
from tests import factories
from tests.conftest import TEST_PASSWORD, csrf_token


def _signed_in_as(client, name: str) -> bool:
    html = client.get("/").get_data(as_text=True)
    return f'<span class="user-name">{name}</span>' in html and "Sign out" in html


def test_register_signs_in_and_stores_a_scrypt_hash(session, client, auth):
    response = auth.register(email="Ada@Example.org", name="Ada")
    assert response.status_code == 302
    assert _signed_in_as(client, "Ada")
    user = session.scalar(select(User))
    assert user.email == "ada@example.org"
    assert user.password_hash.startswith("scrypt:")
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
    html = auth.register(password="short").get_data(as_text=True)
    assert 'aria-describedby="password-hint password-error"' in html
    assert 'aria-invalid="true"' in html


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


def test_a_kept_cookie_is_still_checked_for_its_value_age_and_keys(
    app, session, client, auth, monkeypatch
):
    """Each worker keeps the cookies it has verified, by value: a different value is verified
    afresh, and the age and the keys still count on every request."""
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


def test_a_kept_cookie_opens_a_session_of_its_own_each_time(app):
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


def test_failed_logins_are_throttled_per_account(session, client, auth):
    factories.make_user(session, "reader@example.org")
    for _ in range(5):
        assert auth.login(password="wrong password").status_code == 401
    blocked = auth.login()  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0


def test_failed_logins_are_throttled_per_address(app, session, client, auth):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = 3
    for n in range(3):
        assert auth.login(email=f"guess{n}@example.org").status_code == 401
    factories.make_user(session, "reader@example.org")
    assert auth.login().status_code == 429
    other_address = client.post(
        "/auth/login",
        data={
            "email": "reader@example.org",
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(client),
        },
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other_address.status_code == 302


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
