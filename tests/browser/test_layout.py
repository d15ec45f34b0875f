"""Typesetting: a readable measure, no sideways scrolling on a phone, the web font, dark mode."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import READ_PATH, wait_for_scroll_to_settle
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

PAGES = ["/", READ_PATH, "/auth/login", "/auth/register"]

# Characters on each rendered line of an element's text, found with a Range per character.
CHARS_PER_LINE = """el => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  const lines = [];
  let top = null;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect || rect.width === 0) continue;
      if (top === null || rect.top > top + rect.height / 2) {
        lines.push(0);
        top = rect.top;
      }
      lines[lines.length - 1] += 1;
    }
  }
  return lines;
}"""


def _rgb(css: str) -> tuple[float, float, float]:
    match = re.match(r"rgba?\(([\d.]+), ([\d.]+), ([\d.]+)", css)
    assert match, f"not an rgb() colour: {css}"
    r, g, b = (float(v) for v in match.groups())
    return r, g, b


def _luminance(css: str) -> float:
    """WCAG relative luminance, 0 (black) to 1 (white)."""

    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in _rgb(css))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _colours(page, selector: str) -> tuple[str, str]:
    return page.locator(selector).first.evaluate(
        "el => [getComputedStyle(document.body).backgroundColor, getComputedStyle(el).color]"
    )


@pytest.mark.parametrize("path", PAGES)
def test_phone_width_has_no_sideways_scrolling(new_page, path):
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(path)
    page.evaluate("document.fonts.ready")
    scroll_width, client_width = page.evaluate(
        "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert scroll_width <= client_width, f"{path} scrolls sideways: {scroll_width}px in 360px"
    # Nothing in main sticks out of the screen either (overflow: hidden would mask it above).
    outside = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
             .filter(el => { const r = el.getBoundingClientRect();
                             return r.width && (r.left < -0.5 || r.right > innerWidth + 0.5); })
             .map(el => el.outerHTML.slice(0, 80))"""
    )
    assert outside == []


def test_phone_text_is_readable(new_page):
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(READ_PATH)
    page.evaluate("document.fonts.ready")
    para = page.locator("#p4 .para")
    size, line_height = para.evaluate(
        "el => [getComputedStyle(el).fontSize, getComputedStyle(el).lineHeight].map(parseFloat)"
    )
    assert size >= 16, "body text at least 16 CSS px on a phone"
    assert line_height >= 1.4 * size
    lines = para.evaluate(CHARS_PER_LINE)[:-1]
    average = sum(lines) / len(lines)
    assert 30 <= average <= 50, f"{average:.0f} characters a line on a phone"
    box = para.bounding_box()
    assert box is not None and box["x"] >= 12 and box["x"] + box["width"] <= 360 - 12, (
        "the text keeps a margin from the screen edges"
    )


@pytest.mark.parametrize("selector", ["#p4 .para", "#p8 .para"])
def test_wide_screen_keeps_a_readable_measure(new_page, selector):
    page = new_page(viewport={"width": 1400, "height": 900})
    page.goto(READ_PATH)
    page.evaluate("document.fonts.ready")
    lines = page.locator(selector).evaluate(CHARS_PER_LINE)
    assert len(lines) > 5
    full_lines = lines[:-1]  # the last line of a paragraph is short
    average = sum(full_lines) / len(full_lines)
    assert 60 <= average <= 80, f"{average:.1f} characters a line: {full_lines}"


def test_the_literata_web_font_is_used(page):
    fonts = []
    page.on(
        "response",
        lambda response: (
            fonts.append((response.url, response.status))
            if "/fonts/" in urlparse(response.url).path
            else None
        ),
    )
    page.goto(READ_PATH)
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('1em Literata')")
    loaded = page.evaluate(
        """[...document.fonts].filter(f => f.family.replace(/"/g, '') === 'Literata'
                                         && f.status === 'loaded').map(f => f.style)"""
    )
    assert "normal" in loaded and "italic" in loaded  # the byline is italic
    assert any(url.endswith("literata-latin-wght-normal.woff2") and s == 200 for url, s in fonts)
    family = page.locator("#p4 .para").evaluate("el => getComputedStyle(el).fontFamily")
    assert family.startswith("Literata")


@pytest.mark.parametrize(
    ("scheme", "dark"), [("light", False), ("dark", True)], ids=["light", "dark"]
)
def test_colour_scheme_follows_the_system(new_page, scheme, dark):
    page = new_page(color_scheme=scheme)
    page.goto(READ_PATH)
    background, text = _colours(page, "#p4 .para")
    if dark:
        assert _luminance(background) < 0.05 and _luminance(text) > 0.6
    else:
        assert _luminance(background) > 0.85 and _luminance(text) < 0.05
    assert _contrast(background, text) >= 7  # AAA for the text being read
    assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") == "light dark"
    # Form fields follow too, not left white in the dark.
    page.goto("/auth/login")
    field_bg, field_text = page.get_by_label("Email").evaluate(
        "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]"
    )
    assert (_luminance(field_bg) < 0.05) == dark
    assert _contrast(field_bg, field_text) >= 7


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (360, 740)], ids=["wide", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_reading_page(new_page, tmp_path, scheme, width, height):
    """Pictures to look at (set SCHOLIA_SCREENSHOT_DIR to keep them): the page must render."""
    folder = Path(os.environ.get("SCHOLIA_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page = new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
    page.goto(READ_PATH)
    page.evaluate("document.fonts.ready")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shot = folder / f"reading-{width}-{scheme}.png"
    page.screenshot(path=shot)
    assert shot.stat().st_size > 10_000
    page.goto(f"{READ_PATH}#p5")
    expect(page.locator("#p5")).to_be_in_viewport()
    wait_for_scroll_to_settle(page)
    page.screenshot(path=folder / f"reading-{width}-{scheme}-p5.png")


def test_phone_header_fits_a_long_display_name(new_page):
    """Display names may have 80 characters, not all of them with spaces to break at."""
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    name = "Konstantinopolitanischerdudelsackpfeifenmachergesellschaft Ng"
    page.goto("/auth/register")
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill("long@example.org")
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_label("Repeat password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("banner")).to_contain_text(name)
    expect(page.get_by_role("status")).to_contain_text(name)  # "Welcome, <name>. ..."
    for path in [None, "/", READ_PATH, "/notes"]:
        if path:
            page.goto(path)
        # Measured as the reader sees it: with the stylesheet applied (script can lay a page
        # out before a render-blocking stylesheet has arrived, and did on a loaded CI machine).
        page.wait_for_load_state("load")
        page.evaluate("document.fonts.ready")
        scroll_width, client_width = page.evaluate(
            "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
        )
        assert scroll_width <= client_width, f"{path} scrolls sideways when signed in"
        expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport(ratio=1)


# ---- a margin fuller than its paragraph (issue 17) ----

LONG = (
    "Carr reads the agreement as the moment the regime stopped waiting for revolution abroad "
    "and started trading with the powers it had promised to overthrow. "
)
NOTED = {  # words of each paragraph the notes are on
    5: ["rightly hailed as a break-through", "trade representatives", "prescribed ritual"],
    1: ["Lenin's Rolls Royce", "custom-made", "Party use"],  # one short line
}

# From the end of one paragraph's text to the start of the next, and the line height of the text
# (the excerpt's: the editor's captions above it are set smaller).
_GAP = """n => {
  const para = (k) => document.querySelector(`#p${k} .para`);
  return [para(n + 1).getBoundingClientRect().top - para(n).getBoundingClientRect().bottom,
          parseFloat(getComputedStyle(document.querySelector('.excerpt .para')).lineHeight)];
}"""

# A note's first line is in view beside its paragraph: its body's top inside the window and
# within the paragraph row's height, painted (not folded, not clipped away).
_FIRST_LINE_BESIDE = """note => {
  const body = note.querySelector(':scope > .note-body');
  if (!body || !body.checkVisibility()) return false;
  const line = body.getBoundingClientRect();
  const row = note.closest('.para-row').querySelector('.para').getBoundingClientRect();
  return line.height >= 10 && line.top >= row.top - 1 && line.top + 10 <= row.bottom;
}"""


@pytest.fixture
def seminar_pair(new_page, session, seeded):
    """Ann and Ben in a seminar reading the Carr text; Ben's page, 1280x800, signed in."""
    from app.services import groups
    from app.services.access import viewer_for
    from tests.browser.conftest import sign_in
    from tests.factories import make_group, make_user

    ann = make_user(session, "ann@example.org", "Ann Student")
    ben = make_user(session, "ben@example.org", "Ben Student")
    group = make_group(session, ann, ben)
    groups.add_reading(session, viewer_for(session, ann), group.id, seeded.slug, None, "")
    session.commit()
    page = new_page(viewport={"width": 1280, "height": 800}, color_scheme="light")
    sign_in(page, "ben@example.org")
    return page, ann, ben, group


def _three_long_notes(session, seeded, ann, ben, group, paragraph: int) -> list[int]:
    """Ann's three long notes on the paragraph, the first answered twice by Ben."""
    from app.services import discussion
    from app.services.access import viewer_for
    from tests.factories import make_annotation

    notes = [
        make_annotation(session, ann, seeded, words, body=f"Note {n}: " + LONG * 3, group=group).id
        for n, words in enumerate(NOTED[paragraph])
    ]
    for words in ("Or a pause?", "Both, surely."):
        discussion.reply(session, viewer_for(session, ben), notes[0], words)
        session.commit()
    return notes


def _open_at(page, paragraph: int) -> None:
    page.goto(f"{READ_PATH}#p{paragraph}")
    page.evaluate("document.fonts.ready")
    wait_for_scroll_to_settle(page)


def _assert_no_gap(page, paragraph: int) -> None:
    """The next paragraph's text starts at most ~1.5 lines below the end of this one's."""
    gap, line = page.evaluate(_GAP, paragraph)
    assert gap <= 1.5 * line, f"{gap:.0f} px between ¶{paragraph} and the next ({line:.0f} a line)"


def _reach_all(page, paragraph: int, notes: list[int]) -> None:
    """Each note's first lines are beside its paragraph, or one click away: on the margin's
    "Show N more", which lists them all (the row may then be taller than its text), those
    folded beside the text and those the server left out of the margin alike."""
    away = [
        n
        for n in notes
        if not page.locator(f"#a{n}").count()
        or not page.locator(f"#a{n}").evaluate(_FIRST_LINE_BESIDE)
    ]
    if not away:
        return
    page.locator(f"#p{paragraph} .margin > .more-notes .more-notes-link").click()
    for note_id in away:
        expect(page.locator(f"#a{note_id} > .note-body")).to_be_visible()


def test_a_margin_fuller_than_its_paragraph_leaves_no_gap_in_the_text(
    seminar_pair, session, seeded
):
    page, ann, ben, group = seminar_pair
    notes = _three_long_notes(session, seeded, ann, ben, group, 5)
    _open_at(page, 5)
    _assert_no_gap(page, 5)
    margin = page.locator("#p5 .margin")
    # Three long notes are more than fits beside ¶5: shown by their first lines, all in view.
    expect(margin.locator(".note.is-compact")).not_to_have_count(0)
    for note_id in notes:
        assert page.locator(f"#a{note_id}").evaluate(_FIRST_LINE_BESIDE)

    # A compact note opens whole with its "Open", from the keyboard: its words and controls are
    # there, the others make room, and the text still flows on beside it.
    card = page.locator("#" + margin.locator(".note.is-compact").first.get_attribute("id"))
    opener = card.locator("> a.note-open")
    expect(opener).to_have_attribute("aria-expanded", "false")
    expect(card.locator("> .replies > summary")).to_have_text(re.compile("^2 replies"))
    opener.focus()
    page.keyboard.press("Enter")
    expect(card).to_have_class(re.compile(r"\bis-open\b"))
    expect(opener).to_have_attribute("aria-expanded", "true")
    expect(opener).to_be_focused()
    expect(opener).to_have_accessible_name(re.compile("^Show less"))
    expect(card.locator("> .note-actions")).to_be_visible()
    body = card.locator("> .note-body")
    assert body.evaluate("b => b.scrollHeight <= b.clientHeight + 1"), "the note is shown whole"
    expect(body).to_contain_text("the powers it had promised")
    _assert_no_gap(page, 5)
    page.keyboard.press("Enter")  # the opener still holds the focus: back to first lines
    expect(card).not_to_have_class(re.compile(r"\bis-open\b"))
    expect(opener).to_be_focused()
    # Its thread opens from its count, and keeps it whole.
    card.locator("> .replies > summary").click()
    expect(card.locator(".thread .reply").first).to_contain_text("Or a pause?")
    expect(card).to_have_class(re.compile(r"\bis-open\b"))
    # "Show less" takes the thread back in too, and the text closes up again.
    opener.click()
    expect(card).not_to_have_class(re.compile(r"\bis-open\b"))
    expect(card.locator(".thread")).to_be_hidden()
    _assert_no_gap(page, 5)
    # Every note is in reach: beside the text, or under "Show N more" (one click).
    opener.click()
    _reach_all(page, 5, notes)


def test_a_note_folded_away_is_one_keypress_away_and_takes_the_focus(seminar_pair, session, seeded):
    from app.services import discussion
    from app.services.access import viewer_for

    page, ann, ben, group = seminar_pair
    notes = _three_long_notes(session, seeded, ann, ben, group, 1)
    # And the seminar discusses ¶1 (the server sends a discussion with posts open).
    thread = discussion.discussion_thread(
        session, viewer_for(session, ann), seeded.slug, group.id, 1
    )
    session.commit()
    for words in ("Why a Rolls Royce?", "Lenin liked cars."):
        discussion.reply(session, viewer_for(session, ann), thread.id, words)
        session.commit()
    _open_at(page, 1)
    _assert_no_gap(page, 1)  # ¶1 is one short line: the margin shows what fits beside it
    margin = page.locator("#p1 .margin")
    talk = margin.locator("details.discussion")
    expect(talk).to_be_hidden()  # folded in with the notes
    more = margin.locator(".more-notes-link")
    expect(more).to_have_text("Show 3 notes and discussion of ¶1")
    folded = margin.locator(".note.is-folded")
    expect(folded).not_to_have_count(0)
    first_folded = folded.first.get_attribute("id")
    more.focus()
    page.keyboard.press("Enter")
    # The list is whole now; the focus is on the first note that was folded, in view.
    target = page.locator(f"#{first_folded}")
    expect(target).to_be_focused()
    expect(target).to_be_in_viewport()
    expect(margin.locator(".note.is-folded, .note.is-compact")).to_have_count(0)
    for note_id in notes:
        expect(page.locator(f"#a{note_id} > .note-body")).to_be_visible()
    expect(talk).to_be_visible()  # all of the margin, the discussion too
    expect(talk).to_contain_text("Lenin liked cars.")


def test_a_highlight_or_a_link_to_a_folded_note_shows_it_whole(seminar_pair, session, seeded):
    page, ann, ben, group = seminar_pair
    notes = _three_long_notes(session, seeded, ann, ben, group, 1)
    _open_at(page, 1)
    last = page.locator(f"#a{notes[2]}")
    expect(last).to_be_hidden()  # folded beside ¶1's one line
    page.locator(f"#p1 mark.hl[data-top='{notes[2]}']").click()
    expect(last).to_be_focused()
    expect(last.locator("> .note-actions")).to_be_visible()
    expect(last.locator("> .note-body")).to_contain_text("the powers it had promised")
    # A link to a note from elsewhere (the inbox, the notebook) lands on it, whole.
    page.goto("/")
    page.goto(f"{READ_PATH}#a{notes[1]}")
    note = page.locator(f"#a{notes[1]}")
    expect(note.locator("> .note-actions")).to_be_visible()
    expect(note).to_be_in_viewport()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_fitted_margin_has_no_accessibility_violations(seminar_pair, session, seeded, scheme):
    from tests.browser.test_accessibility import _assert_no_violations

    page, ann, ben, group = seminar_pair
    page.emulate_media(color_scheme=scheme)
    _three_long_notes(session, seeded, ann, ben, group, 1)  # folded
    notes = _three_long_notes(session, seeded, ann, ben, group, 5)  # compact, one opened
    _open_at(page, 5)
    page.locator(f"#a{notes[2]} > a.note-open").click()
    expect(page.locator("#p1 .more-notes-link")).to_have_text("Show 3 notes on ¶1")
    _assert_no_violations(page)


def test_the_margin_stays_fitted_through_a_live_update(seminar_pair, session, seeded):
    from tests.factories import make_annotation

    page, ann, ben, group = seminar_pair
    notes = _three_long_notes(session, seeded, ann, ben, group, 5)
    _open_at(page, 5)
    _assert_no_gap(page, 5)
    # Ben opens a note; then Ann, elsewhere, adds a fourth note to ¶5.
    page.locator(f"#a{notes[1]} > a.note-open").click()
    expect(page.locator(f"#a{notes[1]}")).to_have_class(re.compile(r"\bis-open\b"))
    make_annotation(
        session, ann, seeded, "Brest-Litovsk treaty", body="And a fourth. " + LONG, group=group
    )
    expect(page.locator("#p5 .para-count")).to_have_text("4 notes, 3 shown", timeout=5000)
    _assert_no_gap(page, 5)
    expect(page.locator(f"#a{notes[1]}")).to_have_class(re.compile(r"\bis-open\b"))
    expect(page.locator(f"#a{notes[1]} > .note-actions")).to_be_visible()
    _reach_all(page, 5, notes)


def test_without_javascript_the_margin_lists_its_notes_whole(new_page, session, seeded):
    """Nothing measures what fits without a script: the margin is as the server sends it."""
    from app.models import Visibility
    from tests.factories import make_annotation, make_user

    ann = make_user(session, "ann@example.org", "Ann Student")
    ids = [
        make_annotation(
            session, ann, seeded, w, body="Whole. " + LONG, visibility=Visibility.PUBLIC
        ).id
        for w in NOTED[5]
    ]
    page = new_page(viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    page.goto(f"{READ_PATH}?lens=public#p5")
    for note_id in ids:
        expect(page.locator(f"#a{note_id} > .note-body")).to_be_visible()
        expect(page.locator(f"#a{note_id} > a.note-open")).to_be_hidden()
