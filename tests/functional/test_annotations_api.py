"""The annotation API as the page's JavaScript and other clients use it."""

from __future__ import annotations

import gzip
import re

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.models import Annotation
from app.services.access import viewer_for
from tests import factories
from tests.factories import csrf_token, dom, recorded_queries, text_of

TEXT_URL = "http://localhost/texts/carr-rapprochement"
QUOTE = "Litvinov in Copenhagen"


@pytest.fixture
def content(client, seeded) -> str:
    return client.get("/api/v1/texts/carr-rapprochement").get_json()["content"]


@pytest.fixture
def reader(session, client, auth):
    user = factories.make_user(session, "reader@example.org", "Reader")
    auth.login()
    return user


def annotation_json(content: str, quote: str = QUOTE, body: str = "", tags=(), **extra) -> dict:
    start = content.index(quote)
    comment = [
        {"type": "TextualBody", "purpose": "commenting", "format": "text/markdown", "value": body}
    ]
    comment = comment if body else []
    payload = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "motivation": "commenting" if body else "highlighting",
        "body": comment + [{"type": "TextualBody", "purpose": "tagging", "value": t} for t in tags],
        "target": {
            "source": TEXT_URL,
            "selector": [
                {
                    "type": "TextQuoteSelector",
                    "exact": quote,
                    "prefix": content[max(0, start - 32) : start],
                    "suffix": content[start + len(quote) : start + len(quote) + 32],
                },
                {"type": "TextPositionSelector", "start": start, "end": start + len(quote)},
            ],
        },
    }
    payload.update(extra)
    return payload


def post(client, payload, token=None):
    return client.post(
        "/api/v1/annotations", json=payload, headers={"X-CSRFToken": token or csrf_token(client)}
    )


def test_text_endpoint_gives_content_and_paragraph_offsets(client, seeded):
    data = client.get("/api/v1/texts/carr-rapprochement").get_json()
    assert data["title"] == "Rapprochement; how the Bolsheviks came to love capitalists"
    assert data["author"] == "EH Carr"
    assert data["citation"].startswith("E.H. Carr")
    assert len(data["paragraphs"]) == 10
    for p in data["paragraphs"]:
        assert data["content"][p["start"] : p["end"]].strip()
        assert p["number"] and p["id"]
    assert (
        "\n\n".join(data["content"][p["start"] : p["end"]] for p in data["paragraphs"])
        == data["content"]
    )


def test_create_highlight_returns_201_with_w3c_annotation(client, reader, content):
    response = post(client, annotation_json(content, **{"scholia:color": "green"}))
    assert response.status_code == 201
    data = response.get_json()
    assert data["type"] == "Annotation" and data["motivation"] == "highlighting"
    assert data["id"].startswith("http://localhost/api/v1/texts/carr-rapprochement/annotations/")
    assert response.headers["Location"] == data["id"]
    assert data["creator"]["name"] == "Reader"
    assert data["created"] and data["modified"]
    assert data["scholia:color"] == "green"
    assert data["scholia:paragraph"] == 4
    selectors = {s["type"]: s for s in data["target"]["selector"]}
    start = content.index(QUOTE)
    assert selectors["TextQuoteSelector"]["exact"] == QUOTE
    assert selectors["TextPositionSelector"] == {
        "type": "TextPositionSelector",
        "start": start,
        "end": start + len(QUOTE),
    }


def test_create_note_with_markdown_and_tags(client, reader, content):
    payload = annotation_json(
        content, body="**Litvinov** <script>alert(1)</script>", tags=["NEP", "#diplomacy", "nep"]
    )
    data = post(client, payload).get_json()
    bodies = data["body"]
    assert bodies[0]["value"].startswith("**Litvinov**")
    assert [b["value"] for b in bodies if b["purpose"] == "tagging"] == ["diplomacy", "nep"]
    page = dom(client.get("/texts/carr-rapprochement").get_data(as_text=True))
    assert "Litvinov" in [text_of(b) for b in page.select(".note-body strong")]
    # No script of the note's is on the page to run (<template>s' content included).
    assert not any("alert(1)" in script.get_text() for script in page.find_all("script"))


def test_stale_offsets_are_reanchored_from_the_quote(client, reader, content):
    payload = annotation_json(content)
    payload["target"]["selector"][1].update(start=5, end=5 + len(QUOTE))
    data = post(client, payload).get_json()
    position = data["target"]["selector"][1]
    assert content[position["start"] : position["end"]] == QUOTE


@pytest.mark.parametrize(
    ("mutate", "status", "message"),
    [
        (lambda p: p["target"]["selector"][1].update(start=10, end=5), 422, "not a non-empty span"),
        (lambda p: p["target"]["selector"][1].update(start=0, end=10**7), 422, "not a non-empty"),
        (
            lambda p: p["target"]["selector"][0].update(exact="words Carr never wrote at all"),
            422,
            "not in this text",
        ),
        (lambda p: p["target"].update(source="http://localhost/texts/nope"), 404, "no text"),
        (lambda p: p["target"].update(source="http://localhost/elsewhere"), 400, "not the URL"),
        (lambda p: p.update({"scholia:color": "tartan"}), 422, "must be one of"),
        (lambda p: p.update(motivation="frobnicating"), 422, "motivation"),
        (lambda p: p.update(type="Note"), 400, "type must be"),
        (lambda p: p.pop("target"), 400, "needs a target"),
        (
            lambda p: p.update(body=[{"type": "TextualBody", "value": "x" * 20_001}]),
            413,
            "the limit is",
        ),
        (lambda p: p.update(body=[{"type": "TextualBody", "value": 7}]), 400, "must be a string"),
        (
            lambda p: p.update(
                body=[{"type": "TextualBody", "purpose": "tagging", "value": "t" * 65}]
            ),
            422,
            "at most 64",
        ),
    ],
)
def test_bad_annotations_get_a_clear_4xx_and_store_nothing(
    client, reader, content, session, mutate, status, message
):
    payload = annotation_json(content)
    mutate(payload)
    response = post(client, payload)
    assert response.status_code == status
    assert message in response.get_json()["detail"]
    assert session.scalar(select(func.count(Annotation.id))) == 0


def test_non_json_body_is_refused(client, reader):
    response = client.post(
        "/api/v1/annotations",
        data="not json",
        headers={"X-CSRFToken": csrf_token(client), "Content-Type": "text/plain"},
    )
    assert response.status_code == 415  # not a media type the API takes
    assert "JSON" in response.get_json()["detail"]
    broken = client.post(
        "/api/v1/annotations",
        data="not json",
        headers={"X-CSRFToken": csrf_token(client), "Content-Type": "application/json"},
    )
    assert broken.status_code == 400 and "JSON" in broken.get_json()["detail"]


def test_create_needs_csrf_token_and_sign_in(client, seeded, content, session, auth):
    factories.make_user(session, "reader@example.org")
    anonymous = post(client, annotation_json(content))
    assert anonymous.status_code == 401
    # Anonymous and token-less: what is missing is a sign-in (401, see test_w3c_protocol.py).
    client_token_less = client.post("/api/v1/annotations", json=annotation_json(content))
    assert client_token_less.status_code == 401
    auth.login()  # signed in, a write without the CSRF token is still refused
    signed_in_token_less = client.post("/api/v1/annotations", json=annotation_json(content))
    assert signed_in_token_less.status_code == 400
    assert signed_in_token_less.is_json
    assert session.scalar(select(func.count(Annotation.id))) == 0


def test_paragraph_and_whole_text_notes(client, reader, content):
    data = client.get("/api/v1/texts/carr-rapprochement").get_json()
    fifth = data["paragraphs"][4]
    paragraph_note = post(
        client,
        {
            "type": "Annotation",
            "motivation": "commenting",
            "body": [{"type": "TextualBody", "value": "Why Rapallo?"}],
            "target": {
                "source": TEXT_URL,
                "selector": [
                    {"type": "TextPositionSelector", "start": fifth["start"], "end": fifth["end"]}
                ],
            },
        },
    )
    assert paragraph_note.status_code == 201
    assert paragraph_note.get_json()["scholia:paragraph"] == 5
    text_note = post(
        client,
        {
            "type": "Annotation",
            "motivation": "commenting",
            "body": {"type": "TextualBody", "value": "Overall: realpolitik."},
            "target": {"source": TEXT_URL},
        },
    )
    assert text_note.status_code == 201
    assert "selector" not in text_note.get_json()["target"]
    listing = client.get("/api/v1/annotations?text=carr-rapprochement").get_json()
    assert listing["total"] == 2


def test_edit_keeps_earlier_versions(client, reader, content):
    created = post(client, annotation_json(content, body="first thought")).get_json()
    url = created["id"].replace("http://localhost", "")
    token = csrf_token(client)
    patched = client.patch(
        url,
        json={
            "body": [
                {"type": "TextualBody", "value": "second thought"},
                {"type": "TextualBody", "purpose": "tagging", "value": "revisit"},
            ]
        },
        headers={"X-CSRFToken": token},
    )
    assert patched.status_code == 200
    assert patched.get_json()["body"][0]["value"] == "second thought"
    put = client.put(
        url,
        json={"body": [{"type": "TextualBody", "value": "third"}], "scholia:color": "blue"},
        headers={"X-CSRFToken": token},
    )
    assert put.get_json()["scholia:color"] == "blue"
    assert [b["purpose"] for b in put.get_json()["body"]] == ["commenting"]
    history = client.get(f"/notes/{url.rsplit('/', 1)[1]}/history").get_data(as_text=True)
    assert "first thought" in history and "second thought" in history and "third" in history


def test_delete_then_undo(client, reader, content):
    created = post(client, annotation_json(content, body="keep me")).get_json()
    url = created["id"].replace("http://localhost", "")
    token = csrf_token(client)
    assert client.delete(url, headers={"X-CSRFToken": token}).status_code == 204
    assert client.get(url).status_code == 404
    assert "keep me" not in client.get("/texts/carr-rapprochement").get_data(as_text=True)
    assert client.get("/api/v1/annotations?text=carr-rapprochement").get_json()["total"] == 0
    restored = client.post(url + "/restore", headers={"X-CSRFToken": token})
    assert restored.status_code == 200
    assert client.get(url).status_code == 200


def test_other_readers_and_anonymous_visitors_cannot_learn_it_exists(app, session, content, reader):
    owner_client = app.test_client()
    from tests.factories import AuthActions

    AuthActions(owner_client).login()
    created = post(owner_client, annotation_json(content, body="my secret reading")).get_json()
    url = created["id"].replace("http://localhost", "")
    annotation_id = url.rsplit("/", 1)[1]

    factories.make_user(session, "other@example.org", "Other")
    other = app.test_client()
    AuthActions(other).login(email="other@example.org")
    anonymous = app.test_client()
    for visitor in (other, anonymous):
        token = csrf_token(visitor)
        missing = visitor.get("/api/v1/annotations/999999")
        found = visitor.get(url)
        assert found.status_code == missing.status_code == 404
        assert found.get_json()["detail"] == missing.get_json()["detail"]
        listing = visitor.get("/api/v1/annotations?text=carr-rapprochement").get_json()
        assert listing["total"] == 0
        page = visitor.get("/texts/carr-rapprochement").get_data(as_text=True)
        assert "my secret reading" not in page
        assert dom(page).select_one(f"#a{annotation_id}") is None
        # Someone signed in learns only that there is no such note; nobody signed in is asked to.
        refused = 404 if visitor is other else 401
        for method in (visitor.patch, visitor.put, visitor.delete):
            response = method(url, json={"body": []}, headers={"X-CSRFToken": token})
            assert response.status_code == refused
        history = visitor.get(f"/notes/{annotation_id}/history")
        assert history.status_code == (404 if visitor is other else 302)
    notebook = other.get("/notes").get_data(as_text=True)
    assert "my secret reading" not in notebook
    assert owner_client.get(url).status_code == 200


def test_listing_query_count_does_not_grow_with_annotations(
    engine, client, session, reader, content
):
    def count() -> tuple[int, int]:
        with recorded_queries(engine) as statements:
            data = client.get("/api/v1/annotations?text=carr-rapprochement").get_json()
        return len(statements), data["total"]

    token = csrf_token(client)
    post(client, annotation_json(content, body="one", tags=["a"]), token)
    few, total = count()
    assert total == 1
    for word in ("Krasin", "Arcos", "Rapallo", "Genoa", "Reichswehr"):
        post(client, annotation_json(content, quote=word, body=word, tags=["x", word]), token)
    assert count() == (few, 6)


# ---- the paged listing -------------------------------------------------------------------------

LIST = "/api/v1/annotations?text=carr-rapprochement"
CONTAINER = "/api/v1/texts/carr-rapprochement/annotations/"
WORDS = ("Litvinov", "Krasin", "Arcos", "Rapallo", "Genoa")


@pytest.fixture
def five_notes(session, reader, seeded) -> list[int]:
    """Five notes by the reader, returned in reading order."""
    made = [
        factories.make_annotation(session, reader, seeded, word, body=f"on {word}")
        for word in WORDS
    ]
    return [a.id for a in sorted(made, key=lambda a: a.start)]


def ids(items: list[dict]) -> list[int]:
    return [int(item["id"].rsplit("/", 1)[1]) for item in items]


def test_listing_is_paged_and_following_next_reads_every_annotation_once(
    client, seeded, five_notes
):
    whole = client.get(LIST).get_json()  # the path before containers, kept: the same container
    assert whole["type"] == ["BasicContainer", "AnnotationCollection"] and whole["total"] == 5
    assert ids(whole["first"]["items"]) == five_notes and "next" not in whole["first"]

    collection = client.get(CONTAINER + "?limit=2").get_json()
    iri = "http://localhost" + CONTAINER
    base = iri + "?limit=2&"
    assert collection["id"] == iri and collection["total"] == 5
    assert collection["label"] == f"Annotations on {seeded.title}"
    first = collection["first"]
    assert first["id"] == base + "page=0" and collection["last"] == base + "page=2"
    assert first["next"] == base + "page=1" and ids(first["items"]) == five_notes[:2]
    namespace = {"scholia": "http://localhost/api/v1/ns#"}
    assert collection["@context"] == [
        "http://www.w3.org/ns/anno.jsonld",
        namespace,
        "http://www.w3.org/ns/ldp.jsonld",
    ]

    pages, url = [], first["id"]
    while url:
        page = client.get(url.removeprefix("http://localhost")).get_json()
        assert page["type"] == "AnnotationPage" and page["id"] == url
        assert page["partOf"] == {"id": iri, "total": 5}
        assert page["startIndex"] == 2 * len(pages)
        assert page.get("prev") == (pages[-1]["id"] if pages else None)
        pages.append(page)
        url = page.get("next")
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in ids(p["items"])] == five_notes
    assert pages[0]["items"] == first["items"]

    # An item in a page is the annotation as GET /annotations/<id> gives it, minus the
    # @context that the page carries once for all of them.
    single = client.get(f"/api/v1/annotations/{five_notes[0]}").get_json()
    del single["@context"]
    assert pages[0]["items"][0] == single


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("&page=-1", 400, "page must be a whole number"),
        ("&page=one", 400, "page must be a whole number"),
        ("&page=1.5", 400, "page must be a whole number"),
        ("&page=%D9%A3", 400, "page must be a whole number"),  # an Arabic-Indic three
        ("&limit=0", 400, "limit must be at least 1"),
        ("&limit=ten", 400, "limit must be a whole number"),
        ("&page=3&limit=2", 404, "There is no page 3: pages run from 0 to 2"),
        ("&page=" + "9" * 60, 404, "There is no page"),
    ],
)
def test_bad_page_parameters_get_a_clear_json_error(client, five_notes, query, status, message):
    response = client.get(LIST + query)
    assert response.status_code == status
    assert response.is_json and message in response.get_json()["detail"]


def test_listing_is_gzipped_for_clients_that_take_it(client, five_notes):
    plain = client.get(LIST)
    packed = client.get(LIST, headers={"Accept-Encoding": "gzip"})
    assert plain.content_encoding is None and packed.content_encoding == "gzip"
    assert "Accept-Encoding" in packed.vary and packed.mimetype == plain.mimetype
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    refused = client.get(LIST, headers={"Accept-Encoding": "gzip;q=0, br"})
    assert refused.content_encoding is None and refused.get_data() == plain.get_data()


def test_a_cached_listing_reads_who_asks_and_the_cursor_and_nothing_else(
    engine, client, five_notes
):
    """Two small reads, no database session: what every cached answer costs."""
    asked = {"Accept-Encoding": "gzip"}
    first = client.get(LIST, headers=asked)
    began = []

    def count(*_args):
        began.append(1)

    event.listen(Session, "after_begin", count)
    try:
        again = client.get(LIST, headers=asked)
    finally:
        event.remove(Session, "after_begin", count)
    assert began == []
    assert again.get_data() == first.get_data()
    assert again.headers.get("Content-Encoding") == "gzip" and again.vary == first.vary
    with recorded_queries(engine) as statements:
        assert client.get(LIST, headers=asked).get_data() == first.get_data()
    # Who asks (the session's user) and the text's cursor, in whichever order.
    read = {
        "user" if re.search(r'FROM "?user"? ', s) else "text" if "\nFROM text" in s else s
        for s in statements
    }
    assert len(statements) == 2 and read == {"user", "text"}


def test_limit_is_capped_and_nothing_visible_is_one_empty_page(app, client, five_notes):
    capped = client.get(LIST + "&limit=99999999999999").get_json()
    assert "limit=1000&" in capped["first"]["id"] and len(capped["first"]["items"]) == 5
    assert "AnnotationCollection" in client.get(LIST + "&page=").get_json()["type"]
    empty = app.test_client().get(LIST + "&page=0").get_json()  # private notes: none for them
    assert empty["items"] == [] and empty["partOf"]["total"] == 0 and "next" not in empty
    assert app.test_client().get(LIST + "&page=1").status_code == 404


def test_a_cached_page_follows_the_viewer_and_the_change_log(app, engine, session, seeded):
    """Pages are cached per worker; membership, identity and every change still count."""
    from app.models import Visibility
    from app.services import annotation_pages, groups, live
    from tests.factories import fresh, make_group, sign_in

    ada, bea = sign_in(app, session, "Ada Lovelace"), sign_in(app, session, "Bea")
    outsider, anonymous = sign_in(app, session, "Cy"), app.test_client()
    group = make_group(session, ada.user, bea.user)
    first = factories.make_annotation(session, ada.user, seeded, "Krasin", body="x", group=group)

    def listed(who) -> list[int]:
        response = who.get(LIST)
        assert response.status_code == 200 and response.mimetype == "application/ld+json"
        return ids(response.get_json()["first"]["items"])

    assert listed(bea) == [first.id]
    with recorded_queries(engine) as statements:
        assert listed(bea) == [first.id]  # from the cache: no annotation is read again
    assert not [s for s in statements if "FROM annotation" in s]
    assert listed(outsider) == listed(anonymous) == []

    cursor = live.latest_id(fresh(session), seeded.id)
    groups.leave(session, viewer_for(session, bea.user), group.id)
    session.commit()
    assert live.latest_id(session, seeded.id) == cursor  # leaving writes no event ...
    assert listed(bea) == []  # ... but Bea is now another viewer, with another key

    assert listed(ada) == [first.id]
    second = factories.make_annotation(session, ada.user, seeded, "Arcos", body="y", group=group)
    assert live.latest_id(session, seeded.id) > cursor
    assert sorted(listed(ada)) == sorted([first.id, second.id])  # the new cursor: a new page
    # The listing reads the cursor with the text, in one query: the same cursor as the feed's.
    state = annotation_pages.text_state(engine, seeded.slug)
    assert state.cursor == live.latest_id(session, seeded.id) > cursor
    public = factories.make_annotation(
        session, ada.user, seeded, "Genoa", body="z", visibility=Visibility.PUBLIC
    )
    assert listed(anonymous) == listed(outsider) == listed(bea) == [public.id]


# What one create costs the database, and that its answer needs no reload. Creating is the write
# every reader makes all the time, and on SQLite every worker's writes queue for one lock: the
# statements below are the whole budget (see annotations.create). Before the write path was
# trimmed a tagged note took 15 statements besides BEGIN/COMMIT; a regression shows up here.
NOT_QUERIES = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)
# Who is asking (the user with their groups) and the text (anchored on before the lock), then
# under the write lock: the account's writes of the last day (its quota, services/quotas.py),
# the text's current revision, the annotation, its tag and its event; after the commit, the
# author for the answer. PostgreSQL locks the account's row first, in a statement of its own
# (see quotas.check): one more.
TAGGED_NOTE_BUDGET = 8


def _create_counted(engine, client, payload, token) -> list[str]:
    """The statements one create ran, BEGIN/COMMIT and savepoints left out."""
    with recorded_queries(engine) as statements:
        response = post(client, payload, token)
    assert response.status_code == 201, response.get_data(as_text=True)
    return [s for s in statements if not NOT_QUERIES.match(s)]


def test_create_stays_within_its_statement_budget(engine, client, reader, content):
    token = csrf_token(client)
    post(client, annotation_json(content, quote="Krasin"), token)  # this worker warms up
    payloads = [
        annotation_json(content, body="*Why?*", tags=["nep"]),
        annotation_json(content, quote="Rapallo", **{"scholia:color": "blue"}),
    ]
    note, highlight = [_create_counted(engine, client, p, token) for p in payloads]
    budget = TAGGED_NOTE_BUDGET + (engine.dialect.name == "postgresql")
    assert len(note) <= budget, "\n".join(note)
    assert len(highlight) <= budget - 1, "\n".join(highlight)
    for statements in (note, highlight):
        # The annotation is not read back for the answer (its author is), and the revision's
        # paragraphs come from memory.
        assert not any("FROM annotation" in s for s in statements)
        assert not any("FROM paragraph" in s for s in statements)


def test_create_answers_exactly_what_a_later_read_gives(client, reader, content):
    token = csrf_token(client)
    payload = annotation_json(content, body="**Litvinov**", tags=["NEP", "#diplomacy"])
    created = post(client, payload, token)
    again = client.get(created.headers["Location"])
    assert again.get_json() == created.get_json()
    assert created.get_json()["scholia:paragraph"] == 4


def test_a_span_starting_between_paragraphs_is_moved_onto_the_words(client, reader, content):
    """A selection dragged from the blank line between ¶1 and ¶2 belongs to ¶2 everywhere: the
    page, the API and the notebook agree (the notebook once answered 500 here)."""
    gap = content.index("\n\n")
    second = gap + 2
    words = content[second : content.index(" ", second + 1)]
    payload = annotation_json(content, words, body="from the gap")
    payload["target"]["selector"] = [
        {"type": "TextPositionSelector", "start": gap + 1, "end": second + len(words)}
    ]
    made = post(client, payload)
    assert made.status_code == 201, made.get_json()
    data = made.get_json()
    assert data["scholia:paragraph"] == 2
    [quote] = [s for s in data["target"]["selector"] if s["type"] == "TextQuoteSelector"]
    assert quote["exact"] == words
    notebook = client.get("/notes")
    assert notebook.status_code == 200 and "from the gap" in notebook.get_data(as_text=True)
    page = dom(client.get("/texts/carr-rapprochement").get_data(as_text=True))
    assert "from the gap" in text_of(page.select_one("div.para-row#p2"))


def test_a_span_of_only_the_blank_line_between_paragraphs_is_refused(client, reader, content):
    gap = content.index("\n\n")
    payload = annotation_json(content, body="nothing selected")
    payload["target"]["selector"] = [{"type": "TextPositionSelector", "start": gap, "end": gap + 2}]
    refused = post(client, payload)
    assert refused.status_code == 422
    assert "space between two paragraphs" in refused.get_json()["detail"]
    assert client.get("/api/v1/annotations?text=carr-rapprochement").get_json()["total"] == 0


def test_a_preview_shows_the_words_as_the_saved_note_will_and_stores_nothing(
    app, session, seeded, monkeypatch
):
    reader = factories.sign_in(app, session, "Rosa Reader")
    sent = reader.api("POST", "/api/v1/preview", {"markdown": "Some *words* <script>x()</script>"})
    assert sent.status_code == 200
    html = sent.get_json()["html"]
    assert "<em>words</em>" in html and "<script" not in html  # cleaned as a saved note is
    assert session.scalar(select(func.count(Annotation.id))) == 0
    # A form's line breaks (CRLF) count once, as the editor counts them.
    at_limit = "a\r\n" * 10_000
    assert reader.api("POST", "/api/v1/preview", {"markdown": at_limit}).status_code == 200
    too_long = reader.api("POST", "/api/v1/preview", {"markdown": "a" * 20_001})
    assert too_long.status_code == 413 and "the limit is 20,000" in too_long.get_json()["detail"]
    for payload in ({"markdown": 3}, {"text": "x"}, ["x"]):
        refused = reader.api("POST", "/api/v1/preview", payload)
        assert refused.status_code == 400 and refused.get_json()["detail"], payload
    # Signed out, or without the page's token: refused before anything is rendered.
    anonymous = factories.Browser(app).api("POST", "/api/v1/preview", {"markdown": "x"})
    assert anonymous.status_code == 401
    no_token = reader.client.post("/api/v1/preview", json={"markdown": "x"})
    assert no_token.status_code == 400
    # A script previewing without end is held back; another reader is not.
    monkeypatch.setattr("app.services.previews.PER_MINUTE", 5)
    answers = [reader.api("POST", "/api/v1/preview", {"markdown": "x"}) for _ in range(6)]
    assert answers[-1].status_code == 429 and answers[-1].headers["Retry-After"]
    other = factories.sign_in(app, session, "Olga Other")
    assert other.api("POST", "/api/v1/preview", {"markdown": "x"}).status_code == 200
