"""Odd input is a 4xx with a message, never a 500, and stores nothing: one test per kind.

The kinds a tester found answering 500: ids past what a column holds, JSON nested 100,000
deep, lone surrogates, NUL bytes (PostgreSQL refuses them, SQLite stored them) and non-ASCII
digits read as numbers. ``test_route_fuzz.py`` throws all of them at every route.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.models import Annotation, Notification
from tests import factories
from tests.factories import PAGE, SLUG, dom, fresh, make_group, sign_in

EVENTS = f"/api/v1/texts/{SLUG}/events"
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def arabic(number: int) -> str:
    """The same number in ARABIC-INDIC DIGITs: isdigit() is true and int() reads it back."""
    return str(number).translate(ARABIC_INDIC)


def count(session, model=Annotation) -> int:
    return fresh(session).scalar(select(func.count()).select_from(model))


def api_payload(text, body="A note", tags=(), **extra) -> dict:
    quote = "Bolsheviks"
    start = text.current_revision.content.index(quote)
    return {
        "type": "Annotation",
        "body": [
            {"type": "TextualBody", "value": body},
            *({"type": "TextualBody", "purpose": "tagging", "value": t} for t in tags),
        ],
        "target": {
            "source": f"http://localhost{PAGE}",
            "selector": [
                {"type": "TextQuoteSelector", "exact": quote},
                {"type": "TextPositionSelector", "start": start, "end": start + len(quote)},
            ],
        },
        **extra,
    }


def raw_json(browser, method: str, path: str, raw: bytes):
    return browser.client.open(
        path,
        method=method,
        data=raw,
        content_type="application/json",
        headers={"X-CSRFToken": browser.token},
    )


def assert_json_refusal(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    data = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert set(data) == {"type", "title", "status", "detail"}, data
    assert data["status"] == status
    for word in words:
        assert word in data["detail"], data["detail"]


def assert_page_refusal(response, *words: str) -> None:
    assert response.status_code == 400, response.status_code
    html = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    for word in words:
        assert word in html, html[:500]


# ---- integers in the path ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["99999999999999999999", str(2**63), str(2**63 - 1), str(2**31), "9" * 5000, "0", "-1"],
)
def test_a_path_id_no_column_can_hold_matches_no_route(app, session, seeded, number):
    ada = sign_in(app, session, "Ada")
    group = make_group(session, ada.user)
    for path in (
        f"/notes/{number}",
        f"/notes/{number}/history",
        f"/groups/{number}",
        f"/groups/{group.id}/members/{number}/remove",
    ):
        method = "POST" if path.endswith("remove") else "GET"
        response = ada.client.open(path, method=method, data={"csrf_token": ada.token})
        assert response.status_code == 404, (path, response.status_code)
    assert_json_refusal(ada.get(f"/api/v1/annotations/{number}"), 404)
    assert_json_refusal(ada.api("PATCH", f"/api/v1/annotations/{number}", {"body": []}), 404)


def test_a_path_id_in_other_digits_is_not_the_note_it_spells(app, session, seeded, client):
    ada = factories.make_user(session)
    note = factories.make_annotation(session, ada, seeded, "Bolsheviks", body="Public words")
    from app.models import Visibility
    from app.services import annotations
    from app.services.access import viewer_for

    annotations.set_visibility(session, viewer_for(session, ada), note.id, Visibility.PUBLIC, None)
    session.commit()
    assert client.get(f"/notes/{note.id}").status_code == 200
    assert client.get(f"/notes/{arabic(note.id)}").status_code == 404
    assert client.get(f"/api/v1/annotations/{arabic(note.id)}").status_code == 404


def test_the_largest_id_a_column_holds_is_still_looked_up(app, session, seeded):
    ada = sign_in(app, session, "Ada")
    assert ada.get(f"/notes/{2**31 - 1}").status_code == 404  # no such note, not a 500
    assert ada.get(f"/groups/{2**31 - 1}").status_code == 404


# ---- numbers in the query ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "after", ["99999999999999999999", str(2**63), "9" * 5000, "١", "1_0", " 7", "-1", "1.5"]
)
def test_an_events_cursor_that_is_not_a_whole_number_in_range_is_a_400(client, seeded, after):
    assert_json_refusal(client.get(EVENTS, query_string={"after": after}), 400, "after")


def test_the_largest_events_cursor_is_answered(client, seeded):
    response = client.get(EVENTS, query_string={"after": str(2**63 - 1)})
    assert response.status_code == 200
    assert response.get_json()["events"] == []


@pytest.mark.parametrize("name", ["member", "expand", "note", "discuss"])
@pytest.mark.parametrize("value", ["١", "99999999999999999999", "9" * 5000, "x"])
def test_a_number_filter_in_other_digits_or_too_large_is_a_400(client, seeded, name, value):
    assert_page_refusal(client.get(PAGE, query_string={name: value}), name)


def test_a_member_filter_past_what_a_column_holds_is_refused_not_queried(client, seeded):
    assert client.get(PAGE, query_string={"member": str(2**31 - 1)}).status_code == 200
    assert_page_refusal(client.get(PAGE, query_string={"member": str(2**31)}), "member")


@pytest.mark.parametrize("focus", ["99999999999999999999", "9" * 5000, "١", "nonsense"])
def test_a_focus_that_is_no_note_number_is_ignored(client, seeded, focus):
    assert client.get(PAGE, query_string={"focus": focus}).status_code == 200


def test_undo_in_other_digits_offers_to_restore_nothing(app, session, seeded):
    ada = sign_in(app, session, "Ada")
    note = factories.make_annotation(session, ada.user, seeded, "Bolsheviks", body="Gone soon")
    response = ada.post(f"/notes/{note.id}/delete")
    assert response.status_code == 302
    restore = f'form[action="/notes/{note.id}/restore"]'
    # The real offer, flashed once.
    assert dom(ada.html(response.headers["Location"])).select_one(restore) is not None
    ada.post(f"/notes/{note.id}/restore")
    ada.post(f"/notes/{note.id}/delete")  # flash the undo message again
    page = ada.html(f"{PAGE}?undo={arabic(note.id)}")
    assert "Note deleted." in page
    assert dom(page).select(restore) == []


def test_marking_read_with_an_id_that_is_no_number_is_a_400_that_marks_nothing(
    app, session, seeded
):
    ada = sign_in(app, session, "Ada")
    bea = sign_in(app, session, "Bea")
    group = make_group(session, ada.user, bea.user)
    note = factories.make_annotation(
        session, ada.user, seeded, "Bolsheviks", body="Hi", group=group
    )
    for words in ("One", "Two"):
        assert bea.post(f"/notes/{note.id}/reply", body=words).status_code == 302
    unread = select(func.count()).where(Notification.read_at.is_(None))
    assert fresh(session).scalar(unread) == 2
    first = fresh(session).scalar(select(func.min(Notification.id)))
    for raw in ("x", arabic(first), "99999999999999999999"):
        assert_page_refusal(ada.post("/inbox/read", id=raw), "id")
    assert fresh(session).scalar(unread) == 2
    assert ada.post("/inbox/read", id=str(first)).status_code == 302
    assert fresh(session).scalar(unread) == 1


# ---- group ids spelt in other digits ----------------------------------------------------------


def test_an_audience_of_group_in_other_digits_stores_nothing(app, session, seeded):
    ada = sign_in(app, session, "Ada")
    group = make_group(session, ada.user)
    for audience in (f"group-{arabic(group.id)}", "group-99999999999999999999"):
        response = ada.post(f"{PAGE}/notes", body="For the seminar", audience=audience)
        assert response.status_code == 400, (audience, response.status_code)
    assert count(session) == 0
    assert ada.post(f"{PAGE}/notes", body="Fine", audience=f"group-{group.id}").status_code == 302
    assert count(session) == 1


def test_a_lens_of_group_in_other_digits_never_shows_the_group(app, session, seeded):
    ada = sign_in(app, session, "Ada")
    bea = sign_in(app, session, "Bea")
    group = make_group(session, ada.user, bea.user)
    factories.make_annotation(
        session, ada.user, seeded, "Bolsheviks", body="Seminar only", group=group
    )
    assert "Seminar only" in bea.html(f"{PAGE}?lens=group-{group.id}")
    for lens in (f"group-{arabic(group.id)}", "group-99999999999999999999"):
        response = bea.get(PAGE, query_string={"lens": lens})
        assert response.status_code == 400, (lens, response.status_code)  # refused at the edge
        assert "Seminar only" not in response.get_data(as_text=True)


# ---- JSON -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"[" * 65 + b"]" * 65,
    ],
    ids=["array-100000", "object-100000", "array-65"],
)
def test_json_nested_too_deep_is_a_400_json_error(app, session, seeded, raw):
    ada = sign_in(app, session, "Ada")
    note = factories.make_annotation(session, ada.user, seeded, "Bolsheviks", body="Mine")
    for method, path in (
        ("POST", "/api/v1/annotations"),
        ("PATCH", f"/api/v1/annotations/{note.id}"),
        ("POST", f"/api/v1/annotations/{note.id}/hidden"),
    ):
        assert_json_refusal(raw_json(ada, method, path, raw), 400, "nested")


def test_json_nested_64_deep_is_parsed(app, session, seeded):
    ada = sign_in(app, session, "Ada")
    response = raw_json(ada, "POST", "/api/v1/annotations", b"[" * 64 + b"]" * 64)
    assert response.status_code == 400
    assert "nested" not in response.get_json()["detail"]  # the view's own answer


def _lone_surrogates(text) -> dict[str, dict]:
    return {
        "body": api_payload(text, body="a\ud800b"),
        "tag": api_payload(text, tags=["\udfff"]),
        "exact": {
            **api_payload(text),
            "target": {
                "source": f"http://localhost{PAGE}",
                "selector": [{"type": "TextQuoteSelector", "exact": "\ud83d"}],
            },
        },
        "NUL in body": api_payload(text, body="a\x00b"),
        "NUL in tag": api_payload(text, tags=["t\x00"]),
        "ESC in body": api_payload(text, body="\x1b[31mred"),
    }


@pytest.mark.parametrize(
    "where", ["body", "tag", "exact", "NUL in body", "NUL in tag", "ESC in body"]
)
def test_a_lone_surrogate_or_control_character_in_json_is_a_400_storing_nothing(
    app, session, seeded, where
):
    ada = sign_in(app, session, "Ada")
    note = factories.make_annotation(session, ada.user, seeded, "Bolsheviks", body="Kept")
    payload = _lone_surrogates(seeded)[where]
    raw = json.dumps(payload).encode()  # ensure_ascii: a lone surrogate travels as \ud800
    assert_json_refusal(raw_json(ada, "POST", "/api/v1/annotations", raw), 400)
    if where != "exact":  # the same words as an edit, and as a reply
        changes = json.dumps({"body": payload["body"]}).encode()
        path = f"/api/v1/annotations/{note.id}"
        assert_json_refusal(raw_json(ada, "PATCH", path, changes), 400)
        reply = {"body": payload["body"], "target": f"http://localhost{path}"}
        assert_json_refusal(
            raw_json(ada, "POST", "/api/v1/annotations", json.dumps(reply).encode()), 400
        )
    assert count(session) == 1
    assert fresh(session).get(Annotation, note.id).body_source == "Kept"
    assert ada.get(f"/api/v1/annotations/{note.id}").get_json()["body"][0]["value"] == "Kept"


@pytest.mark.parametrize("purpose", [{}, [{}], [["commenting"]], 3])
def test_a_body_purpose_that_is_no_name_is_a_400_changing_nothing(app, session, seeded, purpose):
    """Found by schemathesis (test_api_fuzz.py): a purpose of ``[{}]`` was a 500 on an edit."""
    ada = sign_in(app, session, "Ada")
    note = factories.make_annotation(session, ada.user, seeded, "Bolsheviks", body="Kept")
    body = [{"type": "TextualBody", "purpose": purpose, "value": "Lost"}]
    path = f"/api/v1/annotations/{note.id}"
    for method, where in (("PATCH", path), ("PUT", path), ("POST", "/api/v1/annotations")):
        payload = api_payload(seeded) if method == "POST" else {}
        response = ada.api(method, where, {**payload, "body": body})
        assert_json_refusal(response, 400, "purpose")
    assert count(session) == 1
    assert fresh(session).get(Annotation, note.id).body_source == "Kept"


@pytest.mark.parametrize("path", ["/api/v1/annotations/1", PAGE])
def test_a_method_a_route_does_not_take_is_a_405_naming_those_it_takes(client, seeded, path):
    """RFC 9110 requires Allow on a 405; the error page and the problem details dropped it
    (found by the API fuzzing)."""
    refused = client.open(path, method="TRACE")
    assert refused.status_code == 405
    allowed = {method.strip() for method in refused.headers["Allow"].split(",")}
    assert {"GET", "OPTIONS"} <= allowed and "TRACE" not in allowed


@pytest.mark.parametrize("number", [2**70, -(2**70)])
def test_a_json_number_past_64_bits_is_a_400(app, session, seeded, number):
    ada = sign_in(app, session, "Ada")
    payload = api_payload(seeded, **{"scholia:visibility": "group", "scholia:group": number})
    assert_json_refusal(ada.api("POST", "/api/v1/annotations", payload), 400, "number")
    assert count(session) == 0


# ---- NUL and control characters in forms and queries ------------------------------------------


@pytest.mark.parametrize("body", ["a\x00b", "\x00", "bell\x07", "esc\x1b[0m"])
def test_a_control_character_in_a_form_is_a_400_storing_nothing(app, session, seeded, body):
    ada = sign_in(app, session, "Ada")
    note = factories.make_annotation(session, ada.user, seeded, "Bolsheviks", body="Kept")
    assert_page_refusal(ada.post(f"{PAGE}/notes", body=body), "control character")
    assert_page_refusal(ada.post(f"/notes/{note.id}/reply", body=body), "control character")
    assert_page_refusal(ada.post(f"/notes/{note.id}/edit", body=body), "control character")
    assert_page_refusal(ada.post(f"{PAGE}/notes", body="Fine", tags=body), "control character")
    assert_page_refusal(ada.post("/groups", name=body), "control character")
    assert count(session) == 1
    assert fresh(session).get(Annotation, note.id).body_source == "Kept"


def test_tab_cr_and_lf_are_text(app, session, seeded):
    ada = sign_in(app, session, "Ada")
    assert ada.post(f"{PAGE}/notes", body="Two\r\nlines\tand a tab").status_code == 302
    assert count(session) == 1


def test_a_control_character_in_the_query_is_a_400_page_or_json(client, seeded):
    assert_page_refusal(client.get(PAGE, query_string={"tag": "a\x00"}), "control character")
    assert_page_refusal(client.get(PAGE, query_string={"x\x01": "1"}), "control character")
    response = client.get("/api/v1/annotations", query_string={"text": f"{SLUG}\x00"})
    assert_json_refusal(response, 400, "control character")


def test_a_control_character_in_the_path_is_a_400(client, seeded):
    assert_page_refusal(client.get("/texts/carr%00rapprochement"), "control character")
    assert_json_refusal(client.get("/api/v1/texts/carr%1B/events"), 400, "control character")
