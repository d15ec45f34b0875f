"""Personal access tokens: made on the account page or by the CLI, shown once, kept as a hash,
the only credential of a request that carries one, and the only kind allowed across origins."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text, update

from app.models import Annotation, ApiToken, User, Visibility
from app.models.base import utcnow
from app.services import tokens
from tests import factories
from tests.factories import dom, text_of

LIST = "/api/v1/annotations?text=carr-rapprochement"
ACCOUNT = "/auth/account"
INVALID_TOKEN = 'Bearer realm="Scholia", error="invalid_token"'


def make_token(session, browser, name: str = "Script") -> str:
    _, secret = tokens.create(session, browser.user.id, name)
    session.commit()
    return secret


def bearer(secret: str, **headers) -> dict:
    return {"Authorization": f"Bearer {secret}", **headers}


def new_note(text, body: str = "From a script", quote: str = "Litvinov in Copenhagen") -> dict:
    start = text.current_revision.content.index(quote)
    return {
        "type": "Annotation",
        "body": [{"type": "TextualBody", "value": body}],
        "target": {
            "source": factories.TEXT_URL,
            "selector": {"type": "TextPositionSelector", "start": start, "end": start + len(quote)},
        },
    }


def annotation_count(session) -> int:
    return factories.fresh(session).scalar(select(func.count(Annotation.id)))


def listed_ids(response) -> set[int]:
    assert response.status_code == 200, response.get_json()
    return {factories.annotation_id(item) for item in response.get_json()["first"]["items"]}


def token_rows(session) -> list[ApiToken]:
    return list(factories.fresh(session).scalars(select(ApiToken)))


# ---- made on the account page, shown once ----


def test_a_token_made_on_the_account_page_is_shown_once_and_only_its_hash_is_kept(ada, session):
    response = ada.post(f"{ACCOUNT}/tokens", name="  Grading   script ")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    shown = dom(response.get_data(as_text=True)).select_one("input#new-token")
    secret = shown["value"]
    assert secret.startswith("scholia_") and shown.has_attr("readonly")

    (row,) = token_rows(session)
    assert (row.user_id, row.name) == (ada.user.id, "Grading script")
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [getattr(row, column.key) for column in ApiToken.__table__.columns]
    assert not any(secret in str(value) for value in stored)

    # The secret works, and the account page never shows it again.
    assert ada.client.get(LIST, headers=bearer(secret)).status_code == 200
    page = ada.html(ACCOUNT)
    assert secret not in page
    assert "Grading script" in text_of(dom(page).select_one(f"#token-{row.id}"))


def test_last_used_is_shown_after_use_and_written_at_most_once_a_minute(ada, session):
    secret = make_token(session, ada, "Nightly export")
    (row,) = token_rows(session)
    assert "last used never" in text_of(dom(ada.html(ACCOUNT)).select_one(f"#token-{row.id}"))

    assert ada.client.get(LIST, headers=bearer(secret)).status_code == 200
    (row,) = token_rows(session)
    assert row.last_used_at is not None
    shown = dom(ada.html(ACCOUNT)).select_one(f"#token-{row.id} time:nth-of-type(2)")
    assert shown["datetime"] == row.last_used_at.isoformat()

    # Used 30 seconds ago: another use within the minute writes nothing.
    recent = utcnow() - timedelta(seconds=30)
    session.execute(update(ApiToken).values(last_used_at=recent))
    session.commit()
    assert ada.client.get(LIST, headers=bearer(secret)).status_code == 200
    assert token_rows(session)[0].last_used_at == recent
    # Two minutes ago: the next use is recorded.
    old = utcnow() - timedelta(minutes=2)
    session.execute(update(ApiToken).values(last_used_at=old))
    session.commit()
    assert ada.client.get(LIST, headers=bearer(secret)).status_code == 200
    assert token_rows(session)[0].last_used_at > old


def test_a_database_that_cannot_record_the_use_still_answers(ada, session, engine):
    """The last-used time waits for a later request when the database is busy."""
    secret = make_token(session, ada)
    (row,) = token_rows(session)
    client = ada.app.test_client()
    holder = create_engine(engine.url)
    try:
        with holder.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.connection.driver_connection.isolation_level = None
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, held
            else:
                connection.execute(
                    text("SELECT id FROM api_token WHERE id = :id FOR UPDATE"), {"id": row.id}
                )
            response = client.get(LIST, headers=bearer(secret))
            assert response.status_code == 200
            connection.rollback()
    finally:
        holder.dispose()
    assert token_rows(session)[0].last_used_at is None


def test_create_token_on_the_command_line_prints_the_secret_once(ada, session, runner):
    result = runner.invoke(args=["create-token", "ADA@example.org", "--name", "Notebook sync"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    (row,) = token_rows(session)
    assert row.name == "Notebook sync" and row.secret_hash == tokens.digest(secret)
    assert ada.client.get(LIST, headers=bearer(secret)).status_code == 200

    unknown = runner.invoke(args=["create-token", "nobody@example.org", "--name", "X"])
    assert unknown.exit_code != 0 and "No account has that email address" in unknown.output
    long = runner.invoke(args=["create-token", "ada@example.org", "--name", "x" * 81])
    assert long.exit_code != 0 and "at most 80 characters" in long.output
    assert len(token_rows(session)) == 1


def test_a_name_too_long_or_missing_is_refused_with_a_message(ada, session):
    for name, message in (
        ("x" * 81, "A token's name may have at most 80 characters."),
        ("   ", "Give the token a name"),
    ):
        response = ada.post(f"{ACCOUNT}/tokens", name=name)
        assert response.status_code in (413, 422)
        page = dom(response.get_data(as_text=True))
        assert message in text_of(page.select_one("#name-error"))
        assert page.select_one("input#name")["aria-invalid"] == "true"
        assert page.select_one("input#new-token") is None
    assert token_rows(session) == []


def test_an_account_holds_at_most_twenty_live_tokens(ada, session):
    for n in range(tokens.MAX_LIVE_TOKENS):
        tokens.create(session, ada.user.id, f"Script {n}")
    session.commit()
    response = ada.post(f"{ACCOUNT}/tokens", name="One too many")
    assert response.status_code == 409
    assert "Revoke one you no longer use" in text_of(dom(response.get_data(as_text=True)))
    assert len(token_rows(session)) == tokens.MAX_LIVE_TOKENS
    # Revoking one makes room.
    first = token_rows(session)[0]
    assert ada.post(f"{ACCOUNT}/tokens/{first.id}/revoke").status_code == 302
    assert ada.post(f"{ACCOUNT}/tokens", name="Now it fits").status_code == 200


# ---- revoking ----


def test_a_revoked_token_is_refused_and_only_its_owner_revokes_it(ada, session):
    secret = make_token(session, ada, "Old script")
    token_id = token_rows(session)[0].id
    revoke = f"{ACCOUNT}/tokens/{token_id}/revoke"
    bea = factories.sign_in(ada.app, session, "Bea")
    assert bea.post(revoke).status_code == 404
    assert ada.client.get(LIST, headers=bearer(secret)).status_code == 200

    response = ada.post(revoke)
    assert response.status_code == 302
    assert "“Old script” is revoked" in factories.flashed(ada, response)
    assert token_rows(session) == []
    refused = ada.client.get(LIST, headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == INVALID_TOKEN
    # Revoking again, or without the form's CSRF token, changes nothing.
    assert ada.post(revoke).status_code == 404
    other = make_token(session, ada)
    (row,) = token_rows(session)
    assert ada.client.post(f"{ACCOUNT}/tokens/{row.id}/revoke").status_code == 400
    assert ada.client.get(LIST, headers=bearer(other)).status_code == 200


def test_the_account_page_asks_before_revoking(ada, session):
    make_token(session, ada, "Grading script")
    (row,) = token_rows(session)
    item = dom(ada.html(ACCOUNT)).select_one(f"#token-{row.id}")
    ask = item.select_one("details")
    assert "Revoke" in text_of(ask.select_one("summary"))
    form = ask.select_one("form")
    assert form["method"] == "post" and form["action"] == f"{ACCOUNT}/tokens/{row.id}/revoke"
    assert form.select_one('input[name="csrf_token"]')["value"]


# ---- what a token may do ----


def test_a_token_reads_what_its_owner_may_see_and_never_anothers_private_note(ada, session, seeded):
    bea = factories.make_user(session, "bea@example.org", "Bea")
    mine = factories.make_annotation(session, ada.user, seeded, "Krasin", body="Mine").id
    public = factories.make_annotation(
        session, bea, seeded, "Litvinov", body="Shared", visibility=Visibility.PUBLIC
    ).id
    hers = factories.make_annotation(session, bea, seeded, "Copenhagen", body="Hers alone").id
    secret = make_token(session, ada)

    assert listed_ids(ada.client.get(LIST, headers=bearer(secret))) == {mine, public}
    response = ada.client.get(f"/api/v1/annotations/{hers}", headers=bearer(secret))
    assert response.status_code == 404
    assert "Hers alone" not in response.get_data(as_text=True)
    # Bea's own token sees her note; a request with no credentials sees only the public one.
    bea_secret = tokens.create(session, bea.id, "Bea's")[1]
    session.commit()
    client = ada.app.test_client()
    assert listed_ids(client.get(LIST, headers=bearer(bea_secret))) == {public, hers}
    assert listed_ids(client.get(LIST)) == {public}


def test_a_token_writes_without_a_csrf_token_and_starts_no_session(ada, session, seeded):
    secret = make_token(session, ada)
    client = ada.app.test_client()  # no cookie at all
    created = client.post("/api/v1/annotations", json=new_note(seeded), headers=bearer(secret))
    assert created.status_code == 201, created.get_json()
    assert "Set-Cookie" not in created.headers
    assert created.headers["Cache-Control"] == "private, no-cache"
    note_id = factories.annotation_id(created.get_json())
    assert factories.fresh(session).get(Annotation, note_id).user_id == ada.user.id

    change = {"body": [{"type": "TextualBody", "value": "Edited by the script"}]}
    url = f"/api/v1/annotations/{note_id}"
    assert client.patch(url, json=change, headers=bearer(secret)).status_code == 200
    assert client.delete(url, headers=bearer(secret)).status_code == 204


def test_a_cookie_write_without_its_csrf_token_is_still_refused(ada, session, seeded):
    response = ada.client.post("/api/v1/annotations", json=new_note(seeded))
    assert response.status_code == 400
    assert response.get_json()["title"] == "Form expired"
    # A header that is not a Bearer token changes nothing: still a cookie request.
    basic = ada.client.post(
        "/api/v1/annotations", json=new_note(seeded), headers={"Authorization": "Basic YTpi"}
    )
    assert basic.status_code == 400
    assert annotation_count(session) == 0


REFUSED = {
    "unknown": "scholia_" + "A" * 43,
    "too short": "scholia_abc",
    "another prefix": "ghp_" + "A" * 43,
    "not base64url": "scholia_" + "A" * 42 + "!",
    "empty": "",
    "two words": "scholia_" + "A" * 43 + " extra",
}


@pytest.mark.parametrize("secret", REFUSED.values(), ids=REFUSED.keys())
def test_a_bad_token_is_a_401_with_the_bearer_challenge_and_writes_nothing(
    ada, session, seeded, secret
):
    # Ada's signed-in browser sends its cookie and the page's CSRF token too: the token alone
    # decides, so neither signs her in.
    headers = bearer(secret, **{"X-CSRFToken": ada.token})
    for method, path, payload in (
        ("GET", LIST, None),
        ("POST", "/api/v1/annotations", new_note(seeded)),
    ):
        response = ada.client.open(path, method=method, json=payload, headers=headers)
        assert response.status_code == 401, (method, response.get_data(as_text=True))
        assert response.headers["WWW-Authenticate"] == INVALID_TOKEN
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == 401
    assert annotation_count(session) == 0


def test_a_revoked_tokens_request_with_a_signed_in_cookie_is_still_refused(ada, session, seeded):
    secret = make_token(session, ada)
    (row,) = token_rows(session)
    tokens.revoke(session, ada.user.id, row.id)
    session.commit()
    response = ada.api("POST", "/api/v1/annotations", new_note(seeded))  # cookie + CSRF: fine
    assert response.status_code == 201
    with_token = ada.client.post(
        "/api/v1/annotations",
        json=new_note(seeded),
        headers=bearer(secret, **{"X-CSRFToken": ada.token}),
    )
    assert with_token.status_code == 401
    assert annotation_count(session) == 1


def test_a_disabled_accounts_token_does_nothing(ada, session, seeded):
    secret = make_token(session, ada)
    session.execute(update(User).where(User.id == ada.user.id).values(is_disabled=True))
    session.commit()
    client = ada.app.test_client()
    for response in (
        client.get(LIST, headers=bearer(secret)),
        client.post("/api/v1/annotations", json=new_note(seeded), headers=bearer(secret)),
    ):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == INVALID_TOKEN
    assert annotation_count(session) == 0
    assert token_rows(session)[0].last_used_at is None


def test_a_token_on_a_page_signs_nobody_in(ada, session):
    secret = make_token(session, ada)
    client = ada.app.test_client()
    account = client.get(ACCOUNT, headers=bearer(secret))
    assert account.status_code == 302 and "/auth/login" in account.headers["Location"]
    home = dom(client.get("/", headers=bearer(secret)).get_data(as_text=True))
    assert "Ada" not in [text_of(s) for s in home.select("span.user-name")]


# ---- CORS: for token requests only ----


def test_token_requests_from_another_origin_may_read_the_answer(ada, session, seeded):
    secret = make_token(session, ada)
    client = ada.app.test_client()
    origin = {"Origin": "https://scripts.example"}
    for response in (
        client.get(LIST, headers=bearer(secret, **origin)),
        client.post("/api/v1/annotations", json=new_note(seeded), headers=bearer(secret, **origin)),
        client.get(LIST, headers=bearer("scholia_nonsense", **origin)),  # its 401 too
    ):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"ETag", "Location", "Link", "Retry-After"} <= exposed
        assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_preflight_for_the_api_is_answered(client):
    response = client.options(
        "/api/v1/annotations",
        headers={
            "Origin": "https://scripts.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST"} <= methods
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type", "if-match", "prefer"} <= allowed
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response.headers
    # Not for the pages.
    page = client.options(
        "/auth/login",
        headers={"Origin": "https://scripts.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in page.headers


def test_cookie_requests_get_no_cors_headers(ada, session, seeded):
    origin = {"Origin": "https://evil.example"}
    for response in (
        ada.client.get(LIST, headers=origin),
        ada.client.post(
            "/api/v1/annotations",
            json=new_note(seeded),
            headers={"X-CSRFToken": ada.token, **origin},
        ),
        ada.app.test_client().get(LIST, headers=origin),  # anonymous
    ):
        assert not any(name.startswith("Access-Control-") for name, _ in response.headers)
