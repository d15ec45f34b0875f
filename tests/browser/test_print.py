"""Printing a text with its notes, in Chromium with print media emulated: the print version
(/texts/<slug>/print) puts every note and reply of the lens on paper and nothing to click; the
reading page printed as it is says what its margins left out; the Print link and Ctrl+P reach
the print version and open the print dialog."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app.models import Visibility
from app.services import discussion
from app.services.access import viewer_for
from tests.browser.conftest import READ_PATH, sign_in
from tests.factories import make_annotation, make_group, make_user

pytestmark = pytest.mark.browser

PRINT_PATH = f"{READ_PATH}/print"
# In ¶4 of the Carr excerpt, in the order the margin lists them (their place in the text).
QUOTES = [
    "strengthening of party",
    "Soviet organization",
    "consolidation of Soviet relations",
    "the outside world",
    "war communism",
]
REPLIES = ["Ben: agreed, the party first.", "Ida: and the state with it."]
PRIVATE = ["Ann's words for herself alone.", "Cy's private aside."]

# Every element on the page a reader would click or type in that is laid out: form fields and
# buttons, a <summary> still drawn as a disclosure triangle (a list item), a link with a
# control's words.
_VISIBLE_CONTROLS = r"""() => {
  const controls = [...document.querySelectorAll("button, select, input, textarea")]
    .filter((el) => el.checkVisibility())
    .map((el) => el.outerHTML.slice(0, 120));
  const triangles = [...document.querySelectorAll("summary")]
    .filter((el) => el.checkVisibility() && getComputedStyle(el).display === "list-item")
    .map((el) => "summary: " + el.textContent.trim());
  return [...controls, ...triangles];
}"""
# The words of the controls and hints: none may be printed.
CONTROL_WORDS = re.compile(
    r"Show \d+ more|Note on ¶|Discuss ¶|Note on the whole text|With the keyboard|Select words|"
    r"\bAgree\b|\bQuestion \d|\bReply\b|\bFlag\b|\bEdit\b|\bDelete\b|Who sees this|"
    r"Print with every note|Back to the page|Skip to content|Sign out"
)


@pytest.fixture
def seminar(session, seeded):
    """Five group notes on ¶4 (more than its margin lists), the first answered twice; Ann's
    and Cy's private notes there too. Ben reads."""
    ida, ann, ben, cy = (
        make_user(session, f"{n.lower()}@example.org", f"{n} Reader")
        for n in ("Ida", "Ann", "Ben", "Cy")
    )
    group = make_group(session, ida, ann, ben)
    authors = [ann, ben, ida, ann, ben]
    notes = [
        make_annotation(
            session, who, seeded, quote, body=f"On {quote}: a seminar note.", group=group
        )
        for who, quote in zip(authors, QUOTES, strict=True)
    ]
    for who, words in zip((ben, ida), REPLIES, strict=True):
        discussion.reply(session, viewer_for(session, who), notes[0].id, words)
        session.commit()
    make_annotation(session, ann, seeded, "direct contact", body=PRIVATE[0])
    make_annotation(
        session, cy, seeded, "world revolution", body=PRIVATE[1], visibility=Visibility.PRIVATE
    )
    return group


def _note_bodies() -> list[str]:
    return [f"On {quote}: a seminar note." for quote in QUOTES]


def _as_ben(page, seminar) -> str:
    sign_in(page, "ben@example.org")
    return f"?lens=group-{seminar.id}"


def _printed_text(page) -> str:
    """What the page puts on paper: the body's rendered text with print media emulated."""
    page.emulate_media(media="print")
    return page.locator("body").inner_text()


def _assert_nothing_to_click(page, printed: str) -> None:
    assert page.evaluate(_VISIBLE_CONTROLS) == []
    assert CONTROL_WORDS.findall(printed) == []
    for words in PRIVATE:
        assert words not in printed


def test_the_print_version_prints_every_note_and_reply_and_no_control(page, seminar):
    lens = _as_ben(page, seminar)
    page.goto(PRINT_PATH + lens)
    printed = _printed_text(page)
    for words in [*_note_bodies(), *REPLIES]:
        expect(page.locator("#p4 .margin").get_by_text(words)).to_be_visible()
    # Each note with its author, audience and quote, on paper too.
    first = page.locator("#p4 article.note").first
    expect(first).to_contain_text("Ann Reader")
    expect(first.locator(".audience")).to_have_text("Carr seminar")
    expect(first.locator(".note-quote")).to_have_text(QUOTES[0])
    _assert_nothing_to_click(page, printed)
    # Below its paragraph, not in a column beside it that paper has no room for.
    text_box = page.locator("#p4 p.para").bounding_box()
    margin_box = page.locator("#p4 .margin").bounding_box()
    assert margin_box["y"] >= text_box["y"] + text_box["height"]

    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-") and b"/Type /Page" in pdf


def test_the_reading_page_printed_says_what_its_margin_left_out(page, seminar):
    lens = _as_ben(page, seminar)
    page.goto(READ_PATH + lens)
    expect(page.locator("#p4 article.note")).to_have_count(3)
    printed = _printed_text(page)
    # The three notes the margin lists, their replies opened (closed on screen), and no lie
    # about the rest: how many were left out and where they all are.
    for words in [*_note_bodies()[:3], *REPLIES]:
        expect(page.locator("#p4 .margin").get_by_text(words)).to_be_visible()
    assert "2 more notes on ¶4 not printed here: see the print version." in printed
    where = page.url.split("?")[0] + "/print" + lens
    assert f"Every note and reply of the lens is in the print version: {where}" in printed
    _assert_nothing_to_click(page, printed)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_print_version_on_screen_has_no_accessibility_violations(new_page, seminar, scheme):
    page = new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    lens = _as_ben(page, seminar)
    page.goto(PRINT_PATH + lens)
    expect(page.get_by_role("button", name="Print")).to_be_visible()  # print.js has run
    page.evaluate("document.fonts.ready")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


# Heard after the page's own listeners: whether they took a key from the browser.
_HEAR_TAKEN = "addEventListener('keydown', (e) => { window.__taken = e.defaultPrevented; })"
_COUNT_PRINTS = "window.__prints = 0; window.print = () => { window.__prints += 1; };"


def test_the_print_link_and_ctrl_p_open_the_print_dialog_on_every_note(page, seminar):
    lens = _as_ben(page, seminar)
    page.add_init_script(_COUNT_PRINTS)
    page.goto(READ_PATH + lens)
    page.get_by_role("link", name="Print with every note").click()
    page.wait_for_url(re.compile(re.escape(PRINT_PATH + lens) + "$"))
    page.wait_for_function("window.__prints === 1")
    expect(page.locator("#p4 article.note")).to_have_count(len(QUOTES))
    # Reloaded, it prints only when asked: the address no longer says so.
    page.reload()
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__prints") == 1

    # Ctrl+P on the reading page, whose ¶4 lists three of five notes: the print version prints;
    # not while the reader has words in a form, which that would leave.
    page.goto(READ_PATH + lens)
    expect(page.locator(".more-notes-link")).to_be_visible()
    page.evaluate(_HEAR_TAKEN)
    page.get_by_role("link", name="Note on ¶4").click()
    note = page.get_by_label("Your note on paragraph 4")
    note.fill("Half a thought")
    page.keyboard.press("Control+p")
    assert page.evaluate("window.__taken") is False
    note.fill("")
    page.keyboard.press("Control+p")
    page.wait_for_url(re.compile(re.escape(PRINT_PATH + lens) + "$"))
    page.wait_for_function("window.__prints === 1")


def test_ctrl_p_prints_the_reading_page_when_it_lists_every_note(page, seeded, session):
    reader = make_user(session, "rosa@example.org", "Rosa Reader")
    make_annotation(session, reader, seeded, QUOTES[0], body="Only one note here.")
    sign_in(page, "rosa@example.org")
    page.goto(READ_PATH)
    expect(page.locator("#p4 article.note")).to_have_count(1)
    page.evaluate(_HEAR_TAKEN)
    page.keyboard.press("Control+p")
    # Nothing left out: the browser's own printing goes ahead, on this page, which says
    # nothing of a print version.
    assert page.evaluate("window.__taken") is False
    printed = _printed_text(page)
    assert "Only one note here." in printed
    assert "print version" not in printed
