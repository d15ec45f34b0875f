"""The reading page's print version (/texts/<slug>/print): the same lens and filters as the page,
every note and every reply, no form; and the reading page's way there."""

from __future__ import annotations

import pytest

from app.models import Visibility
from app.views.library import MARGIN_NOTES
from tests import factories
from tests.factories import PAGE, api_reply, dom, text_of

PRINT = f"{PAGE}/print"


@pytest.fixture
def seminar(app, session, seeded):
    return factories.seminar_of_four(app, session)


def _busy_paragraph(session, seminar, text, count: int = MARGIN_NOTES + 2) -> list:
    """``count`` group notes on ¶1 by Ann, the first answered by Ben and Ida."""
    ida, ann, ben, _, group = seminar
    words = text.current_revision.paragraphs[0].body.split()
    notes = [
        factories.make_annotation(
            session, ann.user, text, words[n % len(words)], body=f"seminar note {n}", group=group
        )
        for n in range(count)
    ]
    assert api_reply(ben, notes[0].id, "Ben answers").status_code == 201
    assert api_reply(ida, notes[0].id, "Ida answers too").status_code == 201
    return notes


def _bodies(html: str) -> list[str]:
    return [text_of(b) for b in dom(html).select("#p1 .note-body")]


def test_the_print_version_lists_every_note_and_opens_every_thread(session, seminar, seeded):
    ben, group = seminar[2], seminar[4]
    notes = _busy_paragraph(session, seminar, seeded)
    lens = f"?lens=group-{group.id}"
    page = dom(ben.html(PAGE + lens))  # rendered first: its cut parts must not stand in
    assert len(page.select("#p1 article.note")) == MARGIN_NOTES
    (link,) = page.select("a#print-link")
    assert link["href"] == f"{PRINT}?lens=group-{group.id}#print"
    # On paper the page says what it leaves out and where the rest is.
    notice = [text_of(p) for p in page.select(".text-tools .print-only")]
    assert notice == [
        "Some margins of this printout list only their first notes, and say how many they leave "
        "out. Every note and reply of the lens is in the print version: "
        f"http://localhost{PRINT}?lens=group-{group.id}"
    ]

    printed = ben.html(PRINT + lens)
    assert sorted(_bodies(printed)) == sorted(
        [f"seminar note {n}" for n in range(len(notes))] + ["Ben answers", "Ida answers too"]
    )
    doc = dom(printed)
    assert doc.select(".more-notes, #print-link") == []
    (thread,) = doc.select(f"details#replies-{notes[0].id}")
    assert thread.has_attr("open")
    # A snapshot to print: none of the forms, their templates or the scripts that annotate.
    assert doc.select("textarea, template") == []
    scripts = [s["src"] for s in doc.select("script[src]")]
    assert len(scripts) == 1 and scripts[0].endswith("/js/print.js"), scripts
    (back,) = doc.select(".print-bar a")
    assert back["href"] == PAGE + lens


def test_the_print_version_shows_what_the_lens_shows_this_reader(session, seminar, seeded):
    _, ann, ben, cy, group = seminar
    _busy_paragraph(session, seminar, seeded)
    mine = factories.make_annotation(session, ann.user, seeded, "Krasin", body="ann alone")
    public = factories.make_annotation(
        session, cy.user, seeded, "Arcos", body="for all", visibility=Visibility.PUBLIC
    )
    assert mine.id and public.id
    lens = f"?lens=group-{group.id}"

    assert "seminar note 4" in ben.html(PRINT + lens)
    assert "ann alone" not in ben.html(PRINT + lens)
    assert "ann alone" in ann.html(PRINT + "?lens=mine")
    assert "ann alone" not in ben.html(PRINT + "?lens=mine")
    # Not in the group: its lens is not theirs, and they get their default lens instead.
    outsider = cy.html(PRINT + lens)
    assert "seminar note" not in outsider and "Ben answers" not in outsider
    anonymous = _anonymous_html(ben, PRINT + lens)
    assert "seminar note" not in anonymous and "for all" in anonymous
    assert ben.get(f"{PAGE}-missing/print").status_code == 404


def _anonymous_html(browser, path: str) -> str:
    response = browser.app.test_client().get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_print_version_keeps_the_filters_and_opens_no_form(session, seminar, seeded):
    ben, group = seminar[2], seminar[4]
    _busy_paragraph(session, seminar, seeded)
    factories.make_annotation(
        session, ben.user, seeded, "Krasin", body="ben's own", group=group, tags=("hist",)
    )
    lens = f"lens=group-{group.id}"
    by_ben = ben.html(f"{PRINT}?{lens}&member={ben.user.id}")
    assert "ben's own" in by_ben and "seminar note" not in by_ben
    tagged = ben.html(f"{PRINT}?{lens}&tag=hist")
    assert "ben's own" in tagged and "seminar note" not in tagged
    # The lens bar sends its choices to the print version again (a form without an action).
    (form,) = dom(tagged).select("form.lens-bar")
    assert not form.get("action")
    # What opens a form on the reading page opens none here; odd values are still refused.
    assert dom(ben.html(f"{PRINT}?{lens}&note=1&discuss=1")).select("textarea") == []
    assert ben.get(f"{PRINT}?kind=nonsense").status_code == 400


def test_print_versions_are_not_kept_whole_one_per_reader(app, session, seminar, seeded):
    """Found in review: kept whole, one per reader (a page's key holds its reader's session), a
    class's print versions of a busy text filled the render cache and pushed every other page
    out. Their parts, shared by the audience, are kept; the page is put together each time."""
    ida, ann, ben, _, group = seminar
    _busy_paragraph(session, seminar, seeded)
    cache = app.extensions["render_cache"]

    def pages_kept() -> list:
        """The whole pages in the cache (ReadingContext.page_key), print versions or not."""
        return [key for key in list(cache._entries) if key[0] == "reading"]

    lens = f"?lens=group-{group.id}"
    for reader in (ann, ben, ida, ann):
        assert "seminar note 0" in reader.html(PRINT + lens)
    assert pages_kept() == []
    ben.html(PAGE + lens)
    assert len(pages_kept()) == 1  # the reading page itself is kept as before
