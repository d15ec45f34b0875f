"""Search: a reader finds every paragraph and annotation they may read by its words, and nothing
else; what changes who may read a note (hide, move, delete, leaving a group) counts at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.models import Annotation, Visibility
from app.services import annotations, groups, moderation, search
from app.services.access import ANONYMOUS, viewer_for
from tests import factories
from tests.conftest import SEED as SEED_TEXT
from tests.factories import SLUG, dom, recorded_queries, text_of


@pytest.fixture
def seminar(app, session, seeded):
    """Ida teaches Ann and Ben; Cy reads alone."""
    return factories.seminar_of_four(app, session)


def _find(session, user, words: str, **filters) -> list[tuple[str, int | None]]:
    """What ``user`` (None: anonymous) finds: (kind, annotation id or None) in rank order."""
    session.commit()  # see what others wrote since
    viewer = viewer_for(session, user) if user is not None else ANONYMOUS
    query = search.parse({"q": words, **filters}, viewer)
    results = search.search(session, viewer, query)
    return [(hit.kind, hit.annotation.id if hit.annotation else None) for hit in results.hits]


def _notes(found) -> list[int]:
    return [ident for kind, ident in found if ident is not None]


def _note(session, browser, seeded, body: str, *, quote="Krasin", **kwargs):
    return factories.make_annotation(session, browser.user, seeded, quote, body=body, **kwargs)


def _public(session, browser, seeded, body: str, **kwargs):
    return _note(session, browser, seeded, body, visibility=Visibility.PUBLIC, **kwargs)


def test_finds_paragraphs_and_notes_by_their_stemmed_words(session, seminar, seeded, client):
    _, ann, _, _, _ = seminar
    note = _public(session, ann, seeded, "Barricades everywhere, said the revolutionaries")
    found = _find(session, None, "revolutions")
    paragraphs = [kind for kind, _ in found if kind == "paragraph"]
    assert paragraphs  # "revolution", "revolutions" in the text
    assert _notes(_find(session, None, "barricade")) == [note.id]
    assert _find(session, None, "samovar") == []

    page = dom(client.get("/search?q=revolutions").get_data(as_text=True))
    links = [a["href"] for a in page.select(".search-hit .search-where a:first-child")]
    assert links and all(link.startswith(f"/texts/{SLUG}#p") for link in links)
    paragraph = int(links[0].rsplit("#p", 1)[1])
    body = seeded.current_revision.paragraphs[paragraph - 1].body.lower()
    assert "revolution" in body


def test_more_relevant_results_come_first(session, seminar, seeded):
    _, ann, _, _, _ = seminar
    passing = _public(session, ann, seeded, "Grain, among many other things the treaty named")
    about = _public(session, ann, seeded, "Grain grain grain: it was all about grain")
    assert _notes(_find(session, None, "grain")) == [about.id, passing.id]


def test_snippets_mark_the_words_found_and_escape_the_rest(session, seminar, seeded, client):
    _, ann, _, _, _ = seminar
    _public(session, ann, seeded, "<script>alert(1)</script> the tractor <b>came</b> & went")
    html = client.get("/search?q=tractor").get_data(as_text=True)
    (snippet,) = dom(html).select(".search-hit .search-snippet")
    assert [mark.get_text() for mark in snippet.select("mark")] == ["tractor"]
    assert snippet.select("script, b") == []  # words, never markup
    api = client.get("/api/v1/search?q=tractor").get_json()
    assert "<mark>tractor</mark>" in api["items"][0]["snippet"]
    assert "<script" not in api["items"][0]["snippet"]
    # What the engines give back (SQLite keeps the brackets, PostgreSQL's parser drops them):
    raw = "<script>alert(1)</script> the \x02tractor\x03 & \x02went\x03"
    expected = (
        "&lt;script&gt;alert(1)&lt;/script&gt; the <mark>tractor</mark> &amp; <mark>went</mark>"
    )
    assert search.snippet_html(raw) == expected
    # Stored words holding a marker cannot unbalance the page.
    assert search.snippet_html("\x02a \x03b\x03 \x02c") == "<mark>a </mark>b c"


def test_the_api_names_each_result(session, seminar, seeded, client):
    _, ann, _, _, _ = seminar
    note = _public(session, ann, seeded, "Concessions to foreign capital")
    data = client.get("/api/v1/search?q=concessions&kind=note").get_json()
    assert data["total"] == 1 and data["page"] == 1
    (item,) = data["items"]
    assert item["kind"] == "note"
    assert item["id"] == f"http://localhost/api/v1/texts/{SLUG}/annotations/{note.id}"
    assert item["text"] == {"slug": SLUG, "title": seeded.title}
    assert item["author"] == "Ann Student"
    assert item["created"].endswith("Z")
    krasin = seeded.current_revision.content.index("Krasin")
    spans = seeded.current_revision.spans()
    assert item["paragraph"] == next(s for s in spans if s.start <= krasin < s.end).paragraph.number
    assert f"/texts/{SLUG}" in item["url"] and item["url"].endswith(f"#a{note.id}")


def test_each_filter(session, seminar, seeded, tmp_path):
    """Every note here quotes "Krasin", so each is found by that word: the filters choose."""
    ida, ann, ben, _, group = seminar
    mine = _note(session, ann, seeded, "Timber concessions", tags=("trade",))
    ours = _note(session, ben, seeded, "Timber for the group", group=group)
    question = factories.make_annotation(session, ann.user, seeded, "Krasin", body="Timber?")
    session.execute(
        update(Annotation)
        .where(Annotation.id == question.id)
        .values(motivation="questioning", created_at=datetime(2020, 1, 2, tzinfo=UTC))
    )
    highlight = factories.make_annotation(session, ann.user, seeded, "Krasin")
    reply = factories.api_reply(ida, ours.id, "More on Krasin")
    assert reply.status_code == 201
    reply_id = factories.annotation_id(reply.get_json())
    other = tmp_path / "other.md"
    other.write_text("---\ntitle: Forests\n---\n\nKrasin and more Krasin.\n")
    from app.services import importer

    forests = importer.import_file(session, other).text
    session.commit()

    everything = _find(session, ann.user, "krasin")
    assert ("paragraph", None) in everything
    assert _notes(_find(session, ann.user, "krasin", text=forests.slug)) == []
    assert _find(session, ann.user, "krasin", text=forests.slug) == [("paragraph", None)]
    assert set(_notes(_find(session, ann.user, "krasin", group=str(group.id)))) == {
        ours.id,
        reply_id,
    }
    assert set(_notes(_find(session, ann.user, "krasin", member=str(ben.user.id)))) == {ours.id}
    assert _notes(_find(session, ann.user, "krasin", tag="#Trade")) == [mine.id]
    assert _notes(_find(session, ann.user, "krasin", **{"from": "2020-01-01", "to": "2020-01-02"}))
    assert _notes(_find(session, ann.user, "krasin", to="2020-01-02")) == [question.id]
    today = datetime.now(UTC).date()
    recent = _notes(_find(session, ann.user, "krasin", **{"from": str(today - timedelta(1))}))
    assert question.id not in recent and mine.id in recent
    kinds = {
        "note": [mine.id, ours.id],
        "question": [question.id],
        "highlight": [highlight.id],
        "reply": [reply_id],
    }
    for kind, ids in kinds.items():
        found = _find(session, ann.user, "krasin", kind=kind)
        assert {k for k, _ in found} == {kind} and set(_notes(found)) == set(ids), kind
    paragraphs = _find(session, ann.user, "krasin", kind="paragraph")
    assert paragraphs and all(hit == ("paragraph", None) for hit in paragraphs)
    # A paragraph has no tag, author, group or date: asked for with one, nothing is found.
    assert _find(session, ann.user, "krasin", kind="paragraph", tag="trade") == []


BAD_FILTERS = [
    {"kind": "poem"},
    {"from": "yesterday"},
    {"to": "2026-02-30"},
    {"from": "2026-03-02", "to": "2026-03-01"},
    {"page": "0"},
    {"page": "-1"},
    {"page": "99999999999999999999"},
    {"member": "Ann"},
    {"group": "group-x"},
    {"text": "no-such-text"},
]


@pytest.mark.parametrize("bad", BAD_FILTERS)
def test_a_bad_filter_is_a_400_problem_or_a_message_on_the_page(client, seeded, bad):
    api = client.get("/api/v1/search", query_string={"q": "revolution", **bad})
    assert api.status_code == 400
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["detail"]
    page = client.get("/search", query_string={"q": "revolution", **bad})
    assert page.status_code == 400
    (message,) = dom(page.get_data(as_text=True)).select(".form-errors")
    assert text_of(message) == api.get_json()["detail"]


def test_a_group_is_searched_only_by_its_members(session, seminar, seeded, client):
    _, _, _, cy, group = seminar
    response = cy.get(f"/api/v1/search?q=revolution&group={group.id}")
    assert response.status_code == 400


def test_results_come_in_pages_of_twenty(session, seminar, seeded, client):
    _, ann, _, _, _ = seminar
    notes = {_public(session, ann, seeded, f"Harvest number {n}").id for n in range(25)}
    first = client.get("/api/v1/search?q=harvest").get_json()
    second = client.get("/api/v1/search?q=harvest&page=2").get_json()
    assert first["total"] == second["total"] == 25
    assert len(first["items"]) == 20 and len(second["items"]) == 5
    ids = {factories.annotation_id(i) for i in first["items"] + second["items"]}
    assert ids == notes
    beyond = client.get("/api/v1/search?q=harvest&page=3").get_json()
    assert beyond["items"] == [] and beyond["total"] == 25
    page = dom(client.get("/search?q=harvest").get_data(as_text=True))
    assert len(page.select(".search-hit")) == 20
    (next_link,) = page.select('.pager a[rel="next"]')
    assert "page=2" in next_link["href"] and "q=harvest" in next_link["href"]


def test_a_private_note_is_found_by_its_author_only(session, seminar, seeded):
    ida, ann, ben, _, _ = seminar
    note = _note(session, ann, seeded, "Samovar diplomacy")
    assert _notes(_find(session, ann.user, "samovar")) == [note.id]
    for other in (ida.user, ben.user, None):
        assert _find(session, other, "samovar") == []
    admin = factories.make_user(session, is_admin=True)
    assert _find(session, admin, "samovar") == []


def test_a_group_note_is_found_by_current_members_only(session, seminar, seeded):
    ida, ann, ben, cy, group = seminar
    note = _note(session, ann, seeded, "Kolkhoz question", group=group)
    assert _notes(_find(session, ben.user, "kolkhoz")) == [note.id]
    assert _find(session, cy.user, "kolkhoz") == []
    assert _find(session, None, "kolkhoz") == []
    groups.remove_member(session, viewer_for(session, ida.user), group.id, ben.user.id)
    assert _find(session, ben.user, "kolkhoz") == []  # at once


def test_a_hidden_note_is_found_by_its_author_and_the_instructor_only(session, seminar, seeded):
    ida, ann, ben, _, group = seminar
    note = _note(session, ann, seeded, "Zemstvo nonsense", group=group)
    moderation.set_hidden(session, viewer_for(session, ida.user), note.id, True)
    assert _find(session, ben.user, "zemstvo") == []
    assert _notes(_find(session, ann.user, "zemstvo")) == [note.id]
    assert _notes(_find(session, ida.user, "zemstvo")) == [note.id]
    moderation.set_hidden(session, viewer_for(session, ida.user), note.id, False)
    assert _notes(_find(session, ben.user, "zemstvo")) == [note.id]


def test_a_deleted_note_drops_out_at_once_and_a_restored_one_comes_back(session, seminar, seeded):
    _, ann, ben, _, group = seminar
    note = _note(session, ann, seeded, "Telegraph lines", group=group)
    annotations.delete(session, viewer_for(session, ann.user), note.id)
    assert _find(session, ann.user, "telegraph", kind="note") == []
    assert _find(session, ben.user, "telegraph", kind="note") == []
    annotations.restore(session, viewer_for(session, ann.user), note.id)
    assert _notes(_find(session, ben.user, "telegraph")) == [note.id]


def test_a_note_moved_out_of_the_group_drops_out_for_the_group(session, seminar, seeded):
    _, ann, ben, _, group = seminar
    note = _note(session, ann, seeded, "Locomotives from Sweden", group=group)
    assert _notes(_find(session, ben.user, "locomotive")) == [note.id]
    annotations.set_visibility(session, viewer_for(session, ann.user), note.id, Visibility.PRIVATE)
    assert _find(session, ben.user, "locomotive") == []
    assert _notes(_find(session, ann.user, "locomotive")) == [note.id]


def test_an_edit_is_found_by_its_new_words_and_not_its_old(session, seminar, seeded):
    _, ann, _, _, _ = seminar
    note = _public(session, ann, seeded, "Herring", tags=("fish",))
    changes = annotations.Changes(body="Caviar", tags=["roe"])
    annotations.edit(session, viewer_for(session, ann.user), note.id, changes)
    assert _find(session, None, "herring") == []
    assert _find(session, None, "fish", kind="note") == []
    assert _notes(_find(session, None, "caviar")) == [note.id]
    assert _notes(_find(session, None, "roe")) == [note.id]


HOSTILE = [
    "",
    " ",
    '"',
    '""',
    "*",
    "revolution*",
    "NEAR(revolution war)",
    "revolution NEAR/2 war",
    "-revolution",
    "revolution OR",
    "OR",
    "AND NOT",
    "body:revolution",
    "^revolution",
    "(((",
    "'; DROP TABLE annotation; --",
    "\x00revolution",
    "rev\x01olution",
    "\ufffd\ufeff",
    "!@#$%^&*()",
    "_",
    "é" * 500,
    "revolution " * 100,
    "<script>alert(1)</script>",
    "\u0301\u0301",
    "😀 revolution",
    "'",
    "a:b:c",
]


@pytest.mark.parametrize("words", HOSTILE)
def test_hostile_queries_give_results_or_nothing(client, seeded, words):
    api = client.get("/api/v1/search", query_string={"q": words})
    page = client.get("/search", query_string={"q": words})
    # The edge refuses control characters in any query with a 400; nothing else may fail.
    expected = 400 if any(ord(c) < 32 for c in words) else 200
    assert api.status_code == expected, api.get_data(as_text=True)
    assert page.status_code == expected
    if expected == 200:
        assert isinstance(api.get_json()["items"], list)


def test_hostile_queries_reach_the_service_safely(session, seeded):
    """The edge stops control characters; the service must survive them anyway."""
    for words in HOSTILE:
        _find(session, None, words)


def test_the_page_runs_as_many_queries_for_many_results_as_for_few(
    session, seminar, seeded, engine
):
    ida, ann, ben, _, group = seminar

    def queries() -> int:
        with recorded_queries(engine) as statements:
            assert ben.get("/search?q=wheat").status_code == 200
        return len(statements)

    _note(session, ann, seeded, "Wheat", group=group)
    ben.get("/")  # signed in before counting
    few = queries()
    for n in range(30):
        body = f"Wheat {n}"
        note = _note(session, [ann, ben, ida][n % 3], seeded, body, group=group)
        if n % 5 == 0:
            factories.api_reply(ida, note.id, "wheat reply")
    assert len(dom(ben.html("/search?q=wheat")).select(".search-hit")) == 20
    assert queries() == few


def test_the_header_has_a_labelled_search_box(client, seeded):
    page = dom(client.get("/").get_data(as_text=True))
    (box,) = page.select('header form[role="search"] input[name="q"]')
    (label,) = page.select(f'label[for="{box["id"]}"]')
    assert text_of(label) == "Search texts and notes"
    assert page.select_one('header form[role="search"]')["action"] == "/search"


def test_a_restored_backup_carries_its_index(session, seminar, seeded, runner, tmp_path):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL is backed up with pg_dump")
    _, ann, _, _, _ = seminar
    kept = _public(session, ann, seeded, "Icebreaker").id
    target = tmp_path / "backup.sqlite3"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    _public(session, ann, seeded, "Icebreaker again")
    annotations.edit(
        session, viewer_for(session, ann.user), kept, annotations.Changes(body="Steamer")
    )
    session.commit()
    session.close()
    assert runner.invoke(args=["restore", str(target), "--yes"]).exit_code == 0
    assert _notes(_find(session, None, "icebreaker")) == [kept]
    assert _find(session, None, "steamer") == []


def test_a_revised_text_is_found_by_its_new_words_and_its_notes_follow(
    session, seminar, seeded, tmp_path
):
    """Paragraphs count in their text's current revision only; notes re-anchored onto it keep
    their words, and a quote the revision changed is found by what it quotes now."""
    from app.services import importer

    _, ann, _, _, _ = seminar
    note = _public(session, ann, seeded, "Who was he?", quote="Krasin")
    revised = tmp_path / "carr.txt"
    text_ = SEED_TEXT.read_text(encoding="utf-8").replace("Copenhagen", "Kopenhagen")
    revised.write_text(text_, encoding="utf-8")
    importer.import_file(session, revised, slug=SLUG)
    session.commit()
    assert _find(session, None, "copenhagen") == []
    assert [kind for kind, _ in _find(session, None, "kopenhagen")] == ["paragraph"]
    assert _notes(_find(session, None, "krasin", kind="note")) == [note.id]
