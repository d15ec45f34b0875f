"""The reading page at seminar scale: a bounded margin, one-click buttons through one shared
form, each thread on a page of its own, and the cached render that never goes stale."""

from __future__ import annotations

import gzip

import pytest
from sqlalchemy import select

from app.models import Reaction, ReactionKind, Visibility
from app.views.library import MARGIN_NOTES
from tests import factories
from tests.factories import (
    PAGE,
    Browser,
    dom,
    fresh,
    recorded_queries,
    text_of,
)


@pytest.fixture
def seminar(app, session, seeded):
    return factories.seminar_of_four(app, session)


def _note(session, browser: Browser, text, word: str, body: str, group=None, occurrence=0):
    return factories.make_annotation(
        session,
        browser.user,
        text,
        word,
        body=body,
        group=group,
        visibility=Visibility.GROUP if group else Visibility.PRIVATE,
        occurrence=occurrence,
    )


def _margin(html: str, number: int):
    """Paragraph ``number``'s row: its text and its margin."""
    row = dom(html).select_one(f"div.para-row#p{number}")
    assert row is not None, number
    return row


def _cards(row) -> list[int]:
    """Ids of the note cards in a margin, in the order shown."""
    return [int(card["id"].removeprefix("a")) for card in row.select("article.note")]


def _group_notes_on_p1(session, seminar, text, count: int) -> list:
    _, ann, _, _, group = seminar
    words = text.current_revision.paragraphs[0].body.split()
    return [
        _note(session, ann, text, words[n % len(words)], f"note {n}", group) for n in range(count)
    ]


def test_the_margin_lists_the_first_notes_and_links_to_the_rest(session, seminar, seeded):
    _, _, ben, _, group = seminar
    notes = _group_notes_on_p1(session, seminar, seeded, MARGIN_NOTES + 3)
    ids = [a.id for a in sorted(notes, key=lambda a: (a.start, a.id))]
    lens = f"{PAGE}?lens=group-{group.id}"
    html = ben.html(lens)
    margin = _margin(html, 1)
    assert _cards(margin) == ids[:MARGIN_NOTES]  # position order, then id
    (count,) = margin.select("p.para-count")
    assert text_of(count) == f"{MARGIN_NOTES + 3} notes, {MARGIN_NOTES} shown"
    (link,) = margin.select("a.more-notes-link")
    assert link.get_text() == "Show 3 more notes on ¶1"
    # Every highlight is in the text all the same.
    marked = {int(i) for m in margin.select("[data-starts]") for i in m["data-starts"].split()}
    assert marked == set(ids)

    expanded = _margin(ben.html(link["href"]), 1)
    assert sorted(_cards(expanded)) == sorted(ids)
    assert expanded.select(".more-notes-link") == []


@pytest.mark.parametrize("name", ["expand", "note", "discuss"])
@pytest.mark.parametrize("bad", ["x", "-1", "1e3", "9999999"])
def test_paragraph_arguments_take_only_paragraph_numbers(session, seminar, name, bad):
    _, ann, *_ = seminar
    response = ann.get(f"{PAGE}?{name}={bad}")
    assert response.status_code == 400
    assert f"{name} takes paragraph numbers" in response.get_data(as_text=True)


def test_paragraph_forms_are_links_until_one_is_opened(session, seminar, seeded):
    """A form per paragraph cost a busy page's browser a fifth of a second: the margin has links,
    margin.js opens the form in place, and without JavaScript the link opens it on the page."""
    _, ann, ben, _, group = seminar
    lens = f"{PAGE}?lens=group-{group.id}"
    html = ben.html(lens)
    page = dom(html)
    paragraphs = len(page.select("div.para-row"))
    assert paragraphs >= 10
    # The header's search, sign-out, the lens bar, the shared buttons' form, the whole text's
    # note form; the rest are <template>s, inert until margin.js copies one (select(), like a
    # browser's querySelectorAll, does not look inside a <template>'s content).
    assert len(page.select("template")) >= 4
    assert len(page.select("form")) == 5
    margin = _margin(html, 5)
    assert margin.select("form") == []
    link = margin.select_one('a.inline-form-link[data-form="note"][href]')
    opened = ben.html(link["href"])
    (form,) = _margin(opened, 5).select("form")
    fifth = seeded.current_revision.spans()[4]
    assert form.select_one('input[type="hidden"][name="start"]')["value"] == str(fifth.start)
    assert form.select_one('input[type="hidden"][name="end"]')["value"] == str(fifth.end)
    assert form.select_one("textarea#note-p5") is not None
    assert "Your note on paragraph 5" in text_of(form)
    assert _margin(opened, 4).select("form") == []
    # That form stores a note on the whole paragraph, in the reader's own name.
    sent = ben.post(
        f"/texts/{seeded.slug}/notes",
        body="On ¶5.",
        start=str(fifth.start),
        end=str(fifth.end),
        audience=f"group-{group.id}",
    )
    assert sent.status_code == 302
    assert "On ¶5." in text_of(_margin(ann.html(lens), 5))


def test_no_form_per_note_in_the_margin(session, seminar, seeded):
    """Thousands of notes must not mean thousands of forms, nor thousands of buttons naming one
    form (the browser's parser pays for each): the margin links to the note's page, which has the
    buttons, and margin.js reacts in place."""
    _, ann, ben, _, group = seminar
    note = _note(session, ann, seeded, "Krasin", "A trader.", group)
    card = dom(ben.html(f"{PAGE}?lens=group-{group.id}")).select_one(f"article#a{note.id}")
    assert card.select("form, button") == []
    assert card.select_one(f'a[href="/notes/{note.id}#a{note.id}"][data-react="agree"]')
    assert card.select_one(f'a[href="/notes/{note.id}#a{note.id}"][data-react="question"]')
    # ... carrying the page's lens, where the form then returns (notes.back_to_page).
    back = f"back=lens%3Dgroup-{group.id}"
    reply = card.select_one(
        f'a[href="/notes/{note.id}?open=reply-{note.id}&{back}#reply-{note.id}"]'
    )
    flag = card.select_one(f'a[href="/notes/{note.id}?open=flag-{note.id}&{back}#flag-{note.id}"]')
    # Each leads to the note's page with its form open (one click, not two).
    for link, form in ((reply, f"reply-{note.id}"), (flag, f"flag-{note.id}")):
        opened = dom(ben.html(link["href"]))
        assert opened.select_one(f"details#{form}").has_attr("open")
        others = [d["id"] for d in opened.select("details[id][open]") if d["id"] != form]
        assert others == [], others

    # Where the link leads, one click reacts: a button of the page's one shared form, which comes
    # before every button that names it.
    page = dom(ben.html(f"/notes/{note.id}"))
    assert page.select_one(f'button[formaction="/notes/{note.id}/react?kind=agree&on=1"]')
    (shared,) = page.select("form#post-actions")
    naming = page.find_all(attrs={"form": "post-actions"})
    assert naming and shared.find_all_next(attrs={"form": "post-actions"}) == naming

    # The shared form posts the button's own address (its query names the reaction).
    token = ben.token
    response = ben.client.post(
        f"/notes/{note.id}/react?kind=agree&on=1", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert fresh(session).scalars(select(Reaction.kind)).all() == [ReactionKind.AGREE]
    # Without the token the same button is refused.
    assert ben.client.post(f"/notes/{note.id}/react?kind=agree&on=0").status_code == 400
    # The margin is the seminar's, shared: the page names the reader's own reactions, which its
    # script marks (in words too: tests/browser/test_seminar.py).
    page = dom(ben.html(f"{PAGE}?lens=group-{group.id}"))
    assert page.select_one("article.reading")["data-my-reactions"].split() == [f"{note.id}:agree"]
    assert page.select_one(f"#a{note.id} .reaction-agree span.count").get_text() == "1"


def test_a_thread_has_a_page_with_every_form(session, seminar, seeded):
    ida, ann, ben, cy, group = seminar
    note = _note(session, ann, seeded, "Krasin", "A trader.", group)
    answer = ben.post(f"/notes/{note.id}/reply", body="A diplomat too.")
    assert answer.status_code == 302
    reply_id = int(answer.headers["Location"].rsplit("#a", 1)[1])

    html = ben.html(f"/notes/{note.id}")
    assert "A trader." in html and "A diplomat too." in html
    page = dom(html)
    assert page.select_one(f'form[action="/notes/{note.id}/reply"]') is not None
    assert page.select_one(f"#reply-{note.id}") and page.select_one(f"#flag-{note.id}")
    back = f"/texts/carr-rapprochement?lens=group-{group.id}&focus={note.id}#a{note.id}"
    assert page.select_one(f'a[href="{back}"]') is not None  # back to it in the text, thread open
    # A reply's address shows its whole thread.
    assert "A trader." in ben.html(f"/notes/{reply_id}")
    # The author can move the thread to another audience from here.
    assert dom(ann.html(f"/notes/{note.id}")).select_one(f"#audience-{note.id}") is not None
    # Nobody else learns that the thread exists.
    assert cy.get(f"/notes/{note.id}").status_code == 404
    assert Browser(ida.app).get(f"/notes/{note.id}").status_code == 404
    assert ann.get("/notes/999999").status_code == 404


def test_the_cached_page_follows_every_change(session, seminar, seeded):
    ida, ann, ben, _, group = seminar
    lens = f"{PAGE}?lens=group-{group.id}"
    note = _note(session, ann, seeded, "Krasin", "First thought.", group)
    assert "First thought." in ben.html(lens)
    assert "First thought." in ben.html(lens)  # from the cache

    # A reply, an edit, a hide: each moves the text's change log, so the next page shows it.
    ann.post(f"/notes/{note.id}/reply", body="Second thought.")
    assert "Second thought." in ben.html(lens)
    ann.post(f"/notes/{note.id}/edit", body="Revised thought.", tags="", color="")
    assert "Revised thought." in ben.html(lens)
    ida.post(f"/notes/{note.id}/hide", hidden="1")
    page = ben.html(lens)
    assert "Revised thought." not in page and "Hidden by an instructor." in page
    # The author still reads it: the cache is per viewer.
    assert "Revised thought." in ann.html(lens)


def test_the_cached_page_is_never_shown_to_someone_the_policy_denies(session, seminar, seeded):
    _, ann, ben, cy, group = seminar
    lens = f"{PAGE}?lens=group-{group.id}"
    _note(session, ann, seeded, "Krasin", "For the seminar.", group)
    _note(session, ann, seeded, "Litvinov", "For me alone.")
    assert "For the seminar." in ann.html(lens) and "For me alone." in ann.html(lens)
    assert "For me alone." not in ben.html(lens)
    outsider = cy.html(lens)  # not a member: the lens falls back to Cy's own notes
    assert "For the seminar." not in outsider and "For me alone." not in outsider
    assert "For the seminar." not in Browser(ann.app).html(lens)

    # Leaving the group changes what the same reader may see, with nothing else changed.
    assert "For the seminar." in ben.html(lens)
    ben.post(f"/groups/{group.id}/leave")
    assert "For the seminar." not in ben.html(lens)


# The print version lists every note: it too runs the same few queries however many. Only its
# parts are kept (a whole print version is megabytes, one per reader), so warm it reads what a
# page is put together from: more than a kept page, fewer than a cold one, the same for 2 or 40.
@pytest.mark.parametrize("path, kept_whole", [(PAGE, True), (f"{PAGE}/print", False)])
def test_a_cached_page_runs_a_few_queries_whatever_the_annotations(
    app, engine, session, seminar, seeded, path, kept_whole
):
    ben, group = seminar[2], seminar[4]
    lens = f"{path}?lens=group-{group.id}"

    def queries(cold: bool) -> int:
        if cold:
            app.extensions["render_cache"].clear()
        with recorded_queries(engine) as statements:
            assert ben.get(lens).status_code == 200
        return len(statements)

    _group_notes_on_p1(session, seminar, seeded, 2)
    ben.get("/")  # signed in before counting
    few_cold, few_warm = queries(cold=True), queries(cold=False)
    _group_notes_on_p1(session, seminar, seeded, 40)
    many_cold, many_warm = queries(cold=True), queries(cold=False)
    assert few_cold == many_cold  # rendering: a fixed number of queries
    assert few_warm == many_warm < few_cold  # served from the cache: fewer still
    if kept_whole:
        assert many_warm <= 5, many_warm  # the viewer with their groups, text, assignments, inbox


def test_the_page_around_the_cached_part_is_fresh(session, seminar, seeded):
    """The header, the inbox count and the CSRF token are rendered on every request."""
    _, ann, ben, _, group = seminar
    lens = f"{PAGE}?lens=group-{group.id}"
    first = dom(ben.html(lens))
    note = _note(session, ann, seeded, "Krasin", "Hello @Ben Student", group)
    assert note.id
    second = dom(ben.html(lens))
    assert first.select(".badge") == []
    (badge,) = second.select(".badge")
    assert badge.find(string=True, recursive=False) == "1"
    token = second.select_one('meta[name="csrf-token"]')["content"]
    # The shared form's, this request's.
    assert second.select_one('form#post-actions input[name="csrf_token"]')["value"] == token


def test_browsers_that_take_gzip_get_the_same_page_gzipped(session, seminar, seeded):
    _, ann, _, _, group = seminar
    _note(session, ann, seeded, "Krasin", "Compressed.", group)
    lens = f"{PAGE}?lens=group-{group.id}"
    plain = ann.get(lens)
    packed = ann.get(lens, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert plain.headers.get("Content-Encoding") is None
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 3
    assert gzip.decompress(packed.data) == plain.data


def test_a_flash_message_shows_once_and_is_never_cached(session, seminar, seeded):
    _, ann, _, _, group = seminar
    note = _note(session, ann, seeded, "Krasin", "Soon gone.", group)
    lens = f"{PAGE}?lens=group-{group.id}"
    ann.html(lens)  # cached without a message
    response = ann.post(f"/notes/{note.id}/delete?from=read")
    page = ann.html(response.headers["Location"])
    assert "Note deleted." in page and "Undo" in page
    again = ann.html(response.headers["Location"])
    assert "Note deleted." not in again


def test_no_name_can_spell_where_the_cached_part_goes(app, session, seeded):
    tricky = Browser(app, factories.make_user(session, "tricky@example.org", "<!--reading-body-->"))
    page = dom(tricky.html(PAGE))
    assert [s.get_text() for s in page.select(".user-name")] == ["<!--reading-body-->"]
    assert len(page.select("div.para-row")) == len(seeded.current_revision.paragraphs)
