"""When the database cannot take writes, users get a clear 503 and reads go on working."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Annotation
from tests import factories
from tests.conftest import AuthActions, csrf_token, make_test_app

PAGE = "/texts/carr-rapprochement"


@pytest.fixture
def read_only_app(app, session, seeded, database_url, tmp_path):
    """The same database opened read-only, as after a remount or a full disk's refusal."""
    if not database_url.startswith("sqlite:///"):
        pytest.skip("read-only by URL is a SQLite feature; PostgreSQL is covered in issue 5's test")
    user = factories.make_user(session, "reader@example.org", "Reader")
    note = factories.make_annotation(session, user, seeded, "Krasin", body="already stored")
    path = database_url.removeprefix("sqlite:///")
    ro = make_test_app(f"sqlite:///file:{path}?mode=ro&uri=true", tmp_path / "ro")
    return ro, note


def test_writes_fail_with_503_and_reads_keep_working(read_only_app, session):
    ro, note = read_only_app
    client = ro.test_client()
    # Signing in writes (the attempt is recorded), so it is refused too; say so clearly.
    refused = AuthActions(client).login()
    assert refused.status_code == 503
    assert "the database is read-only" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"]
    # Reading still works.
    assert client.get(PAGE).status_code == 200
    assert client.get("/").status_code == 200
    # The API answers in JSON.
    response = client.post(
        "/api/v1/annotations", json={}, headers={"X-CSRFToken": csrf_token(client)}
    )
    assert response.status_code in (400, 401)  # validation happens before any write
    session.expire_all()
    assert session.scalar(select(func.count(Annotation.id))) == 1
    assert session.get(Annotation, note.id).body_source == "already stored"


def test_api_write_on_read_only_database_is_a_json_503(read_only_app, client, auth, session):
    ro, note = read_only_app
    assert auth.login().status_code == 302  # on the writable app: sessions are signed cookies
    ro_client = ro.test_client()
    ro_client.set_cookie("session", client.get_cookie("session").value)
    token = csrf_token(ro_client, PAGE)
    response = ro_client.patch(
        f"/api/v1/annotations/{note.id}",
        json={"body": [{"type": "TextualBody", "value": "lost?"}]},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 503
    assert response.is_json and "read-only" in response.get_json()["message"]
    assert ro_client.get(f"/api/v1/annotations/{note.id}").status_code == 200
    session.expire_all()
    assert session.get(Annotation, note.id).body_source == "already stored"
