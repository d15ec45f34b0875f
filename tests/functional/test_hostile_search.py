"""Search, attacked: a reader with a script learns nothing from it about notes they may not read
(not from the results, their number or their order), and no query or filter makes it fail."""

from __future__ import annotations

import pytest

from app.models import Visibility
from app.services import annotations, search
from app.services.access import viewer_for
from tests import factories
from tests.factories import dom


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
