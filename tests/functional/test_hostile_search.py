"""Search, attacked: a reader with a script learns nothing from it about notes they may not read
(not from the results, their number or their order), and no query or filter makes it fail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Annotation, Visibility
from app.services import annotations, moderation, search
from app.services.access import viewer_for
from tests import factories
from tests.factories import dom
from tests.functional.test_import import api_import, collection, note


@pytest.fixture
def seminar(app, session, seeded):
    """Ida teaches Ann and Ben; Cy reads alone."""
    return factories.seminar_of_four(app, session)


def _found(session, user, words: str, **filters) -> list[int]:
    """The annotations ``user`` finds, in rank order."""
    session.commit()
    viewer = viewer_for(session, user)
    results = search.search(session, viewer, search.parse({"q": words, **filters}, viewer))
    return [hit.annotation.id for hit in results.hits if hit.annotation]


def _public(session, browser, seeded, body: str):
    return factories.make_annotation(
        session, browser.user, seeded, "Krasin", body=body, visibility=Visibility.PUBLIC
    )


def test_the_order_of_what_one_may_read_owes_nothing_to_what_one_may_not(session, seminar, seeded):
    """A ranking that weighs a word by how many notes hold it (FTS5's bm25) counts the notes
    the reader may not read: Cy, with two public notes of his own, would learn from their order
    whether anyone's private, group or deleted notes hold a word."""
    _, ann, _, cy, group = seminar
    for n in range(30):  # notes enough for a word's rarity to weigh
        _public(session, ann, seeded, f"Filler {n} of the commons")
    more_tundra = _public(session, cy, seeded, "okapi tundra tundra").id
    more_okapi = _public(session, cy, seeded, "okapi okapi tundra").id
    before = _found(session, cy.user, "okapi tundra")
    assert sorted(before) == [more_tundra, more_okapi]
    cy_may_not_read = [
        factories.make_annotation(session, ann.user, seeded, "Krasin", body=f"tundra {n}", **where)
        for n, where in enumerate(({}, {"group": group}, {"visibility": Visibility.PUBLIC}))
    ]
    annotations.delete(session, viewer_for(session, ann.user), cy_may_not_read[-1].id)
    assert _found(session, cy.user, "okapi tundra") == before


def test_or_is_a_word_not_an_operator(session, seminar, seeded):
    """Every word typed must be found, on both databases: PostgreSQL's websearch_to_tsquery
    read "grain or samovar" as grain OR samovar."""
    _, ann, _, _, _ = seminar
    grain = _public(session, ann, seeded, "Grain alone").id
    assert _found(session, ann.user, "grain") == [grain]
    assert _found(session, ann.user, "grain or samovar") == []
    assert _found(session, ann.user, "grain OR samovar") == []


def test_the_widest_dates_are_dates_like_any_other(session, seminar, seeded, client):
    """9999-12-31 is a date: "up to" it was the day after it, past what a date can hold (500)."""
    _, ann, _, _, _ = seminar
    note = _public(session, ann, seeded, "Dated words").id
    session.commit()
    widest = {"q": "dated", "from": "0001-01-01", "to": "9999-12-31"}
    api = client.get("/api/v1/search", query_string=widest)
    assert api.status_code == 200
    assert [factories.annotation_id(item) for item in api.get_json()["items"]] == [note]
    page = client.get("/search", query_string=widest)
    assert page.status_code == 200
    assert len(dom(page.get_data(as_text=True)).select(".search-hit")) == 1
    assert _found(session, ann.user, "dated", to="9999-12-30") == [note]


def test_imported_notes_are_found_at_once_by_their_audience_only(session, seminar, seeded):
    """An import writes outside the services' usual paths: the index follows it, and each
    note is found by those it was imported for."""
    _, ann, ben, cy, _ = seminar
    author = ann.user.display_name
    imported = collection(
        note(1, "Krasin", "Narwhal for me", creator=author),
        note(
            2,
            "Krasin",
            "Narwhal for the seminar",
            creator=author,
            **{"scholia:visibility": "group", "scholia:groupName": "Carr seminar"},
        ),
        note(3, "Krasin", "Narwhal for all", creator=author, **{"scholia:visibility": "public"}),
    )
    assert api_import(ann, imported).status_code == 201
    factories.fresh(session)
    mine, seminar_note, everyone = (
        session.scalar(select(Annotation.id).where(Annotation.body_source == body))
        for body in ("Narwhal for me", "Narwhal for the seminar", "Narwhal for all")
    )
    assert sorted(_found(session, ann.user, "narwhal")) == [mine, seminar_note, everyone]
    assert sorted(_found(session, ben.user, "narwhal")) == [seminar_note, everyone]
    assert _found(session, cy.user, "narwhal") == [everyone]


def test_the_author_and_group_filters_tell_an_outsider_nothing(session, seminar, seeded):
    """Cy asks for Ann's notes by a word in her private and group notes: nothing, and no total
    that counts them; a group he is not in is refused as one that does not exist is."""
    _, ann, _, cy, group = seminar
    factories.make_annotation(session, ann.user, seeded, "Krasin", body="Quagga alone")
    factories.make_annotation(session, ann.user, seeded, "Krasin", body="Quagga", group=group)
    session.commit()
    for kind in ("", "note"):
        asked = {"q": "quagga", "member": str(ann.user.id), "kind": kind}
        answer = cy.get("/api/v1/search", query_string=asked).get_json()
        assert (answer["total"], answer["items"]) == (0, [])
    details = {
        cy.get(f"/api/v1/search?q=quagga&group={gid}").get_json()["detail"]
        for gid in (group.id, f"group-{group.id}", group.id + 1000)
    }
    assert len(details) == 1


def test_stored_markers_and_markup_in_a_note_stay_words_on_the_page(session, seminar, seeded):
    """The snippet's markers are control characters a note can hold too (an API client sends
    any): whatever a note holds, the results page shows its words, never its markup."""
    _, ann, _, _, _ = seminar
    body = "\x02<img src=x onerror=alert(1)>\x03 walrus \x03</mark><script>alert(2)</script>\x02"
    _public(session, ann, seeded, body)
    session.commit()
    page = dom(ann.html("/search?q=walrus"))
    (snippet,) = page.select(".search-hit .search-snippet")
    assert snippet.select("img, script") == []
    assert all(mark.find() is None for mark in snippet.select("mark"))  # words only
    assert "walrus" in [mark.get_text() for mark in snippet.select("mark")]
    assert "\x02" not in snippet.get_text() and "\x03" not in snippet.get_text()


def test_a_hidden_note_is_found_by_no_part_of_it_by_members(session, seminar, seeded):
    """Not its words, nor its tags (as words or as the tag filter), nor the words it quotes."""
    ida, ann, ben, _, group = seminar
    hidden = factories.make_annotation(
        session, ann.user, seeded, "Krasin", body="Dugong", tags=("manatee",), group=group
    ).id
    moderation.set_hidden(session, viewer_for(session, ida.user), hidden, True)
    asked = [
        ("dugong", {}),
        ("manatee", {}),
        ("krasin", {"kind": "note"}),
        ("krasin", {"tag": "manatee"}),
    ]
    for words, filters in asked:
        assert hidden not in _found(session, ben.user, words, **filters)
        assert hidden in _found(session, ida.user, words, **filters)


@pytest.mark.parametrize("key", ["group-2147483648", "group-9999999999999999999", "group-0"])
def test_an_administrators_group_out_of_range_is_a_400(app, session, seeded, key):
    """An administrator may search any group, so the id reaches the database: past its
    integers it was a 500 (PostgreSQL: out of range; SQLite: too large to bind)."""
    admin = factories.sign_in(app, session, "Root", is_admin=True)
    response = admin.get("/api/v1/search", query_string={"q": "revolution", "group": key})
    assert response.status_code == 400
    assert response.get_json()["detail"] == "'group' must be a whole number from 1 to 2147483647."
