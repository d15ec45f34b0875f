"""Sessions end when they should: sign-out, a password change and disabling end every earlier
session (a per-user generation carried in the session's user id), and pages made for a session
are not kept by shared caches."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import LoginAttempt, User
from tests import factories
from tests.conftest import TEST_PASSWORD
from tests.factories import AuthActions, csrf_token, dom, text_of

NEW_PASSWORD = "a brand new passphrase"


def _signed_in_as(client, name: str) -> bool:
    page = client.get("/")
    assert page.status_code == 200
    parsed = dom(page.get_data(as_text=True))
    # The page header names ``name`` and offers to sign out.
    named = name in [s.get_text() for s in parsed.select("span.user-name")]
    return named and "Sign out" in [text_of(b) for b in parsed.select("button")]


def _copy_of(app, client):
    """Another browser holding a copy of ``client``'s session cookie, as a thief would."""
    name = app.config["SESSION_COOKIE_NAME"]
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def _change_password(client, current=TEST_PASSWORD, new=NEW_PASSWORD, confirm=None, **kw):
    return client.post(
        "/auth/account",
        data={
            "current_password": current,
            "password": new,
            "confirm": new if confirm is None else confirm,
            "csrf_token": csrf_token(client, "/auth/account"),
        },
        **kw,
    )


# ---- sign-out, password change and disabling end every earlier session ----


def test_a_copied_session_cookie_stops_working_after_sign_out(app, session, client, auth):
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    thief = _copy_of(app, client)
    assert _signed_in_as(thief, "Reader")
    elsewhere = app.test_client()  # the same reader on another device
    AuthActions(elsewhere).login()
    assert _signed_in_as(elsewhere, "Reader")

    response = auth.logout(follow_redirects=True)
    assert "You are signed out on every device." in response.get_data(as_text=True)
    assert not _signed_in_as(client, "Reader")
    assert not _signed_in_as(thief, "Reader")
    assert not _signed_in_as(elsewhere, "Reader")
    # Signing in again starts a new session that works.
    auth.login()
    assert _signed_in_as(client, "Reader")
    assert not _signed_in_as(thief, "Reader")


def test_a_password_change_ends_other_sessions_and_keeps_this_browser(app, session, client, auth):
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    thief = _copy_of(app, client)
    elsewhere = app.test_client()
    AuthActions(elsewhere).login()

    response = _change_password(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/account"
    page = client.get("/auth/account").get_data(as_text=True)
    assert "Your password is changed. You are signed out on every other device." in page
    assert _signed_in_as(client, "Reader")
    assert not _signed_in_as(thief, "Reader")
    assert not _signed_in_as(elsewhere, "Reader")

    auth.logout()
    assert auth.login().status_code == 401  # the old password is gone
    assert auth.login(password=NEW_PASSWORD).status_code == 302


def test_the_account_page_refuses_a_wrong_current_password(app, session, client, auth):
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    thief = _copy_of(app, client)
    response = _change_password(client, current="not my password")
    assert response.status_code == 400
    error = dom(response.get_data(as_text=True)).select_one("#current_password-error")
    assert "not correct" in error.get_text()
    assert _signed_in_as(thief, "Reader")  # nothing changed
    assert session.scalar(select(User.session_generation)) == 0
    # The guess counts as a failed sign-in for the account.
    failed = session.scalars(select(LoginAttempt.email).where(LoginAttempt.succeeded.is_(False)))
    assert list(failed) == ["reader@example.org"]


@pytest.mark.parametrize(
    ("new", "confirm", "field", "message"),
    [
        ("too short", None, "password", "Passwords need 10 to 1024 characters."),
        (NEW_PASSWORD, "something else entirely", "confirm", "The passwords differ."),
        ("", None, "password", "This field is required."),
    ],
)
def test_the_account_page_explains_a_bad_new_password(
    session, client, auth, new, confirm, field, message
):
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    response = _change_password(client, new=new, confirm=confirm)
    assert response.status_code == 400
    error = dom(response.get_data(as_text=True)).select_one(f"#{field}-error")
    assert error.get_text().startswith(message)
    assert session.scalar(select(User.session_generation)) == 0


def test_the_account_page_needs_a_signed_in_user_and_a_csrf_token(session, client, auth):
    response = client.get("/auth/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    page = client.get("/auth/account")
    assert page.status_code == 200
    assert "reader@example.org" in page.get_data(as_text=True)
    forged = client.post(
        "/auth/account",
        data={"current_password": TEST_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert forged.status_code == 400
    assert session.scalar(select(User.session_generation)) == 0


def test_the_nav_links_to_the_account_page(session, client, auth):
    factories.make_user(session, "reader@example.org", "Reader")

    def account_links() -> list:
        return dom(client.get("/").get_data(as_text=True)).select('a[href="/auth/account"]')

    assert account_links() == []
    auth.login()
    assert account_links()


def test_disabling_ends_sessions_and_enabling_revives_none(app, session, client, auth):
    factories.make_user(session, "admin@example.org", "Admin", is_admin=True)
    reader = factories.make_user(session, "reader@example.org", "Reader")
    AuthActions(client).login("admin@example.org")
    browser = app.test_client()
    AuthActions(browser).login()
    thief = _copy_of(app, browser)

    def set_disabled(value: str):
        response = client.post(
            f"/admin/users/{reader.id}/disabled",
            data={"disabled": value, "csrf_token": csrf_token(client, "/admin/users")},
        )
        assert response.status_code == 302

    set_disabled("1")
    assert not _signed_in_as(browser, "Reader") and not _signed_in_as(thief, "Reader")
    set_disabled("0")
    assert not _signed_in_as(browser, "Reader") and not _signed_in_as(thief, "Reader")
    assert AuthActions(browser).login().status_code == 302
    assert _signed_in_as(browser, "Reader")


def test_a_session_from_before_generations_still_works(app, session, client):
    """Cookies made before the deploy name the bare id: they are generation 0, and live on."""
    user = factories.make_user(session, "reader@example.org", "Reader")
    with client.session_transaction() as old:
        old["_user_id"] = str(user.id)
        old["_fresh"] = True
    assert _signed_in_as(client, "Reader")
    user.session_generation = 1  # a sign-out elsewhere
    session.commit()
    assert not _signed_in_as(client, "Reader")


@pytest.mark.parametrize(
    "forged", ["{id}.1", "{id}.0.0", "{id}.", ".0", "{id}.-0", "{id}.x", "{id}.٠", "x", ""]
)
def test_a_session_naming_another_generation_or_nonsense_is_nobody(session, client, forged):
    user = factories.make_user(session, "reader@example.org", "Reader")
    with client.session_transaction() as planted:
        planted["_user_id"] = forged.format(id=user.id)
    assert not _signed_in_as(client, "Reader")


def test_set_password_command_ends_every_session(app, session, client, auth, runner):
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    result = runner.invoke(args=["set-password", "READER@example.org", "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert "signed out everywhere" in result.output
    assert not _signed_in_as(client, "Reader")
    assert auth.login(password=NEW_PASSWORD).status_code == 302
    unknown = runner.invoke(args=["set-password", "nobody@example.org", "--password", "x" * 12])
    assert unknown.exit_code != 0 and "No account" in unknown.output
    short = runner.invoke(args=["set-password", "reader@example.org", "--password", "short"])
    assert short.exit_code != 0 and "at least 10" in short.output


# ---- Cache-Control: what was made for a session stays in its browser ----


def _private(response) -> bool:
    return response.headers.get("Cache-Control") == "private, no-cache"


def test_pages_for_a_signed_in_reader_are_private(session, client, auth, seeded):
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    for path in ("/", "/notes", "/groups", "/texts/carr-rapprochement"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert _private(response), (path, response.headers.get("Cache-Control"))
    # The reading page again: this time from the render cache's fast path.
    again = client.get("/texts/carr-rapprochement")
    assert again.status_code == 200 and _private(again)
    # Refusals made for the session too.
    missing = client.get("/texts/no-such-text")
    assert missing.status_code == 404 and _private(missing)


def test_api_answers_for_a_signed_in_reader_are_private(session, client, auth, seeded):
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    for _ in range(2):  # made, then from the render cache
        response = client.get("/api/v1/annotations", query_string={"text": seeded.slug})
        assert response.status_code == 200 and response.is_json
        assert _private(response)


def test_an_anonymous_answer_that_never_touched_a_session_keeps_its_headers(
    session, client, seeded
):
    response = client.get("/api/v1/annotations", query_string={"text": seeded.slug})
    assert response.status_code == 200
    assert "Cache-Control" not in response.headers
    # A message flashed to this browser (here: signed out) makes its page private too.
    factories.make_user(session, "reader@example.org", "Reader")
    auth = AuthActions(client)
    auth.login()
    auth.logout()
    page = client.get("/")
    assert "You are signed out on every device." in page.get_data(as_text=True)
    assert _private(page)


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register"])
def test_the_sign_in_and_registration_pages_are_never_stored(client, path):
    assert client.get(path).headers["Cache-Control"] == "no-store"
    refused = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert refused.status_code == 400
    assert refused.headers["Cache-Control"] == "no-store"


def test_the_account_page_is_never_stored(session, client, auth):
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    assert client.get("/auth/account").headers["Cache-Control"] == "no-store"
    assert _change_password(client).headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_year_long_cache(session, client, auth):
    factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    page = dom(client.get("/").get_data(as_text=True))
    (url,) = [
        link["href"]
        for link in page.select('link[rel="stylesheet"][href]')
        if re.fullmatch(r"/static/[^\s]+/css/main\.css", link["href"])
    ]
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.cache_control.max_age == 365 * 24 * 3600
        assert not response.cache_control.private and not response.cache_control.no_cache
