"""Reading the Carr excerpt as a person does: from the library to a paragraph's permalink."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import READ_PATH, TITLE, wait_for_scroll_to_settle

pytestmark = pytest.mark.browser

EXCERPT_NUMBERS = [4, 5, 6, 7, 8, 9]  # ¶1-3 are the editor's, ¶10 the citation


def _open_text_from_library(page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Library")
    entry = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=TITLE))
    expect(entry).to_contain_text("EH Carr")
    expect(entry).to_contain_text("10 paragraphs")
    entry.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(re.escape(READ_PATH) + "$"))


def _check_reading_page(page) -> None:
    expect(page).to_have_title(f"{TITLE} · Scholia")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator(".byline")).to_have_text("by EH Carr")

    article = page.get_by_role("article")
    intro = article.get_by_role("region", name="Editor’s introduction")
    excerpt = article.get_by_role("region", name="The excerpt")
    expect(intro.get_by_role("heading", level=2)).to_have_text("Editor’s introduction")
    expect(excerpt.get_by_role("heading", level=2)).to_have_text("The excerpt")
    expect(intro).to_contain_text("In this short excerpt Carr describes")
    assert intro.evaluate(
        "(intro, excerpt) => !!(intro.compareDocumentPosition(excerpt) & 4)",
        excerpt.element_handle(),
    ), "the editor's introduction comes before the excerpt"

    rows = excerpt.locator(".para-row")
    expect(rows).to_have_count(len(EXCERPT_NUMBERS))
    for row, number in zip(rows.all(), EXCERPT_NUMBERS, strict=True):
        expect(row.locator(".para")).to_be_visible()
        permalink = row.get_by_role("link", name=f"¶{number} (link to paragraph {number})")
        expect(permalink).to_be_visible()
        expect(permalink).to_have_text(re.compile(rf"^¶{number}\b"))
    expect(rows.first.locator(".para")).to_have_text(
        re.compile(r"^The strengthening of party and Soviet organization")
    )
    expect(rows.last.locator(".para")).to_have_text(re.compile(r"accepted procedure\.$"))

    citation = article.locator(".citation").filter(has=page.get_by_role("heading", name="Citation"))
    expect(citation).to_be_visible()
    expect(citation).to_contain_text(
        "Source; E.H. Carr - The Russian Revolution - from Lenin to Stalin 1917-1929"
    )


def test_library_leads_to_the_reading_page(page):
    _open_text_from_library(page)
    _check_reading_page(page)


def test_reading_works_without_javascript(new_page):
    page = new_page(java_script_enabled=False)
    _open_text_from_library(page)
    _check_reading_page(page)
    page.goto(f"{READ_PATH}#p5")
    expect(page.locator("#p5 .para")).to_be_in_viewport()


def test_permalink_scrolls_to_and_marks_its_paragraph(page):
    page.goto(f"{READ_PATH}#p5")
    target = page.locator("#p5")
    expect(target).to_be_in_viewport()
    page.evaluate("document.fonts.ready")
    wait_for_scroll_to_settle(page)
    assert target.evaluate("el => el.matches(':target')")
    assert not page.locator("#p4").evaluate("el => el.matches(':target')")

    def background(selector: str) -> str:
        return page.locator(selector).evaluate("el => getComputedStyle(el).backgroundColor")

    marked, plain = background("#p5 .para"), background("#p4 .para")
    assert marked != plain, "the target paragraph should stand out"
    assert marked not in {"rgba(0, 0, 0, 0)", "transparent"}
    # Scrolled to the top of the window, just below the edge (scroll-margin-top): the reader
    # sees the paragraph's first line, and the one before is out of the way.
    box = target.bounding_box()
    assert box is not None and 0 < box["y"] < 100


def test_paragraph_number_is_a_permalink(page):
    page.goto(READ_PATH)
    page.evaluate("document.fonts.ready")  # the web font's reflow would move the text
    page.get_by_role("link", name="¶7 (link to paragraph 7)").click()
    expect(page).to_have_url(re.compile(re.escape(READ_PATH) + "#p7$"))
    wait_for_scroll_to_settle(page)
    box = page.locator("#p7").bounding_box()
    assert box is not None and 0 < box["y"] < 100
    assert page.locator("#p7").evaluate("el => el.matches(':target')")


def test_print_shows_the_text_without_site_chrome(page):
    page.goto(READ_PATH)
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-footer")).to_be_hidden()
    expect(page.locator(".skip-link")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("#p9 .para")).to_be_visible()
    page.emulate_media(media="screen")
    expect(page.locator(".site-header")).to_be_visible()


def test_unknown_text_explains_itself(page, page_watch):
    page_watch.allow_console_error(r"status of 404")
    response = page.goto("/texts/no-such-text")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not Found")
    expect(page.get_by_role("main")).to_contain_text("There is no text at this address.")
    page.get_by_role("link", name="Back to the library").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Library")


# ---- a margin fuller than the paragraph beside it ----


def test_a_full_margin_opens_in_place_and_a_link_finds_a_note_it_left_out(page, session, seeded):
    from app.models import Visibility
    from app.views.library import MARGIN_NOTES
    from tests.factories import make_annotation, make_user

    writer = make_user(session, "writer@example.org", "Writer")
    content = seeded.current_revision.content
    body = seeded.current_revision.paragraphs[3].body
    words = list(dict.fromkeys(w for w in body.split() if content.count(w) == 1))[
        : MARGIN_NOTES + 2
    ]
    notes = [
        make_annotation(
            session, writer, seeded, word, body=f"On {word}.", visibility=Visibility.PUBLIC
        )
        for word in words
    ]
    last = max(notes, key=lambda a: (a.start, a.id))  # the margin lists by position: left out

    page.goto(READ_PATH)  # anonymous: the public lens
    margin = page.locator("#p4 .margin")
    expect(margin.locator("article.note")).to_have_count(MARGIN_NOTES)
    expect(page.locator(f"#a{last.id}")).to_have_count(0)
    page.evaluate("window.__samePage = true")
    margin.get_by_role("link", name="Show 2 more notes on ¶4").click()
    expect(margin.locator("article.note")).to_have_count(MARGIN_NOTES + 2)
    expect(page.locator(f"#a{last.id} .note-body")).to_have_text(f"On {last.exact}.")
    assert page.evaluate("window.__samePage === true"), "expanded in place, not reloaded"
    assert "expand=4" in page.url  # a reload keeps it open

    # A link to the left-out note opens the list and brings the note into view.
    page.goto(f"{READ_PATH}#a{last.id}")
    expect(page.locator(f"#a{last.id}")).to_be_in_viewport()


def test_a_thread_in_the_margin_opens_from_a_link_to_a_reply_and_stays_open_when_it_grows(
    new_page, session, seeded
):
    from app.models import Visibility
    from app.services import discussion
    from app.services.access import viewer_for
    from tests.factories import make_annotation, make_user

    writer = make_user(session, "writer@example.org", "Writer")
    other = make_user(session, "other@example.org", "Other")
    content = seeded.current_revision.content
    word = next(
        w for w in seeded.current_revision.paragraphs[3].body.split() if content.count(w) == 1
    )
    note = make_annotation(
        session, writer, seeded, word, body="On this.", visibility=Visibility.PUBLIC
    )
    reply = discussion.reply(session, viewer_for(session, other), note.id, "A first answer.")
    session.commit()

    # Closed under its count. A link to a reply opens it (margin.js); without JavaScript, the
    # page a reader is sent back to after writing (notes.back_to) has it open.
    for javascript, arrival in ((True, ""), (False, f"&focus={note.id}")):
        page = new_page(java_script_enabled=javascript)
        page.goto(READ_PATH)  # anonymous: the public lens
        thread = page.locator(f"#a{note.id} details.replies")
        expect(thread.locator("> summary")).to_have_text("1 reply to Writer’s note")
        expect(page.locator(f"#a{reply.id}")).to_be_hidden()
        page.goto(f"{READ_PATH}?lens=public{arrival}#a{reply.id}")  # a new document
        expect(thread).to_have_attribute("open", "")
        expect(page.locator(f"#a{reply.id}")).to_be_visible()
        if javascript:  # kept in view while what is above it is laid out (margin.js)
            expect(page.locator(f"#a{reply.id}")).to_be_in_viewport()

    # Opened by the reader, it stays open when the page takes in a new reply live.
    page = new_page()
    page.goto(READ_PATH)
    thread = page.locator(f"#a{note.id} details.replies")
    thread.locator("> summary").click()
    expect(page.locator(f"#a{reply.id}")).to_be_visible()
    page.get_by_role("heading", level=1).click()  # reading on: a focused part is not swapped
    later = discussion.reply(session, viewer_for(session, writer), reply.id, "A second answer.")
    session.commit()
    expect(thread.locator("> summary")).to_contain_text("2 replies", timeout=5_000)
    expect(page.locator(f"#a{later.id}")).to_be_visible()
    expect(thread).to_have_attribute("open", "")

    # Sent to the note (?focus=), the thread comes open; closed by the reader, it stays closed.
    page.goto(f"{READ_PATH}?lens=public&focus={note.id}")
    expect(thread).to_have_attribute("open", "")
    thread.locator("> summary").click()
    page.get_by_role("heading", level=1).click()
    discussion.reply(session, viewer_for(session, other), note.id, "A third answer.")
    session.commit()
    expect(thread.locator("> summary")).to_contain_text("3 replies", timeout=5_000)
    expect(thread).not_to_have_attribute("open", "")

    # On paper every reply is there, in closed threads too.
    expect(page.locator(f"#a{reply.id}")).to_be_hidden()
    page.emulate_media(media="print")
    expect(page.locator(f"#a{reply.id}")).to_be_visible()
