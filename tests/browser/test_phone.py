"""Phones and touch screens: the text comes first, every control is big enough for a finger, the
selection toolbar stays on screen, and there are no hints about keys a phone does not have."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import READ_PATH, SAVE_NOTE, SeminarNotes, sign_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
TARGET = 24  # CSS px each way: WCAG 2.2's minimum target size (2.5.8)
THUMB = 44  # CSS px tall: the actions that finish something, on a touch screen

# Every control in ``scope`` a reader can see, as [what it is, width, height]. Links inside
# running text (a paragraph, a note's words, a prompt) are WCAG's inline exception.
CONTROLS = """(scope) => [...document.querySelectorAll(
    `${scope} :is(a[href], button, summary, input:not([type=hidden]), select, textarea)`)]
  .filter((el) => !el.closest(".para, .note-body, .assignment-prompt") && el.checkVisibility())
  .map((el) => {
    const box = el.getBoundingClientRect();
    return [el.outerHTML.slice(0, 100), box.width, box.height];
  })"""


OPEN_EVERY_FORM = "document.querySelectorAll('main details').forEach((d) => { d.open = true; })"


def _too_small(page, scope: str, least: float = TARGET) -> list:
    controls = page.evaluate(CONTROLS, scope)
    assert controls, f"no controls in {scope}"
    return [c for c in controls if c[1] < least - 0.01 or c[2] < least - 0.01]


def _reading(new_page, who: str = SeminarNotes.MEMBER, **context):
    page = new_page(**(context or PHONE))
    sign_in(page, who)
    page.goto(READ_PATH)
    expect(page.locator(".annotate-help")).to_be_visible()  # annotate.js has run
    page.evaluate("document.fonts.ready")
    return page


# ---- the lens and filters fold into one line ----


def test_on_a_phone_the_filters_fold_into_one_line_and_the_text_starts_on_the_first_screen(
    new_page, seminar_notes
):
    page = _reading(new_page)
    fold = page.locator(".tools-fold > summary")
    expect(fold).to_have_text(re.compile(r"^Notes: HIST 210\s+Filter$"))
    expect(page.locator("#lens")).to_be_hidden()
    first_line = page.locator("#p1 .para").evaluate(
        "p => { const r = document.createRange(); r.setStart(p.firstChild, 0);"
        " r.setEnd(p.firstChild, 1); return r.getBoundingClientRect().bottom; }"
    )
    assert page.evaluate("scrollY") == 0
    assert first_line <= 740, f"¶1's first line ends {first_line:.0f} px down a 740 px screen"

    # Opened, every field is there; what is asked for is shown, and said in the folded line.
    fold.click()
    for field in ("Notes", "By", "Kind", "Colour", "Tag", "Order"):
        expect(page.get_by_label(field, exact=True)).to_be_visible()
    page.get_by_label("Tag", exact=True).fill("treaty")
    page.get_by_label("Order", exact=True).select_option("newest")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"[?&]tag=treaty(&|$)"))
    expect(fold).to_have_text(re.compile(r"^Notes: HIST 210 · #treaty · Newest first\s+Filter$"))
    expect(page.locator("#lens")).to_be_hidden()  # folded again
    expect(page.locator("#p5 .margin article.note")).to_have_count(1)
    expect(page.locator(f"#a{seminar_notes.note_id}")).to_be_visible()


def test_the_folded_filters_open_and_work_without_javascript(new_page, seminar_notes):
    page = new_page(java_script_enabled=False, **PHONE)
    sign_in(page, SeminarNotes.MEMBER)
    page.goto(READ_PATH)
    fold = page.locator(".tools-fold > summary")
    expect(fold).to_have_text(re.compile(r"^Notes: HIST 210\s+Filter$"))
    fold.click()
    page.get_by_label("Notes", exact=True).select_option("mine")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"[?&]lens=mine(&|$)"))
    expect(fold).to_have_text(re.compile(r"^Notes: My notes\s+Filter$"))
    # Ann's own notes only: Ben's note on ¶5 is not among them.
    expect(page.locator("#p5 .margin")).to_contain_text("Only for me.")
    expect(page.locator("#p5 .margin")).not_to_contain_text("Why?")
    expect(page.locator(f"#a{seminar_notes.note_id}")).to_be_visible()


# ---- targets ----


def test_every_control_on_a_phone_is_at_least_24_px_each_way(new_page, seminar_notes):
    page = _reading(new_page)
    page.locator(f"#a{seminar_notes.note_id} details.replies > summary").click()
    page.locator(".tools-fold > summary").click()
    for scope in (".site-header", ".text-tools", "#p5 .margin", "#text-notes"):
        assert _too_small(page, scope) == [], f"too small in {scope}"
    # The forms the margin opens in place: a note on a paragraph, a reply, a flag.
    page.locator("#p5 .margin-tools").get_by_role("link", name="Note on ¶5", exact=True).click()
    reply = page.locator(f"#a{seminar_notes.note_id} > .note-actions a.reply-link")
    reply.click()
    assert _too_small(page, "#p5 .margin") == []
    # The note's own page, where the margin's links lead without JavaScript.
    page.goto(f"/notes/{seminar_notes.note_id}")
    page.evaluate(OPEN_EVERY_FORM)
    assert _too_small(page, "main") == []
    page.goto("/notes")
    assert _too_small(page, "main") == []


def test_on_a_touch_screen_the_actions_that_finish_something_are_44_px_tall(
    new_page, seminar_notes
):
    page = _reading(new_page)
    margin = page.locator("#p5 .margin")
    margin.get_by_role("link", name="Note on ¶5", exact=True).click()
    buttons = [margin.get_by_role("button", name=SAVE_NOTE)]
    page.locator(f"#a{seminar_notes.note_id} > .note-actions a.reply-link").click()
    buttons.append(margin.get_by_role("button", name="Post reply"))
    margin.locator("article.note > .note-actions > a.flag-link").first.click()  # on Ben's note
    buttons.append(margin.get_by_role("button", name="Send flag"))
    _select(page, 4, "consolidation")
    toolbar = page.get_by_role("toolbar", name="Annotate the selected words")
    expect(toolbar).to_be_visible()
    buttons += toolbar.get_by_role("button").all()
    for button in buttons:
        box = button.bounding_box()
        assert box and box["height"] >= THUMB, f"{button.text_content()}: {box}"

    signed_out = new_page(**PHONE)
    for path, name in (("/auth/login", "Sign in"), ("/auth/register", "Create account")):
        signed_out.goto(path)
        box = signed_out.get_by_role("button", name=name).bounding_box()
        assert box and box["height"] >= THUMB, f"{name}: {box}"


# ---- the selection toolbar ----

# Scrolls so that ``word`` of ¶``n`` (or, without one, the word ending its first line) is ``y``
# px from the window's top (from its bottom when ``y`` is negative), then selects it as a
# finger's handles do, without mouse or key events. Returns where the word is and its text.
_SELECT_AT = """async ([n, word, y]) => {
  const para = document.querySelector(`#p${n} p.para`);
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  let top = null;
  for (let i = 0; i < 20; i++) {  // paragraphs take their size as they come near: let it settle
    para.scrollIntoView({ block: "center", behavior: "instant" });
    await frame();
    await frame();
    if (para.getBoundingClientRect().top === top) break;
    top = para.getBoundingClientRect().top;
  }
  const text = [...para.childNodes].find((node) => node.nodeType === Node.TEXT_NODE);
  const range = document.createRange();
  const around = (match) => {
    range.setStart(text, match.index);
    range.setEnd(text, match.index + match[0].length);
    return range.getBoundingClientRect();
  };
  const words = [...text.data.matchAll(/\\S+/g)];
  const firstLine = around(words[0]).top;
  const chosen = word
    ? words.find((m) => m[0] === word)
    : words.filter((m) => around(m).top < firstLine + 2).at(-1);
  const box = around(chosen);
  const by = y >= 0 ? box.top - y : box.bottom - (innerHeight + y);
  window.scrollBy({ top: by, behavior: "instant" });
  await frame();
  document.getSelection().removeAllRanges();
  document.getSelection().addRange(range);
  const at = range.getBoundingClientRect();
  return { left: at.left, right: at.right, top: at.top, bottom: at.bottom, text: range.toString() };
}"""


def _select(page, paragraph: int, word: str | None = None, y: float = 300) -> dict:
    return page.evaluate(_SELECT_AT, [paragraph, word, y])


@pytest.mark.parametrize(
    ("word", "y"),
    [(None, 300), ("consolidation", 4), ("consolidation", -4), (None, -4)],
    ids=["right-edge", "top", "bottom", "bottom-right"],
)
def test_the_selection_toolbar_stays_on_a_phones_screen(new_page, seminar_notes, word, y):
    page = _reading(new_page)
    words = _select(page, 4, word, y)
    assert words["right"] > 300 or word, words  # the end of a line, at the screen's right
    toolbar = page.get_by_role("toolbar", name="Annotate the selected words")
    expect(toolbar).to_be_visible()
    box = toolbar.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert box["y"] >= 0 and box["y"] + box["height"] <= 740, box
    # Beside the words, not over them: the reader sees what they selected.
    assert box["y"] >= words["bottom"] or box["y"] + box["height"] <= words["top"], (box, words)
    # And it acts on those words.
    toolbar.get_by_role("button", name="Annotate…").click()
    expect(page.locator("#p4 .margin .note-editor .note-quote")).to_have_text(words["text"])


# ---- hints ----


def test_a_touch_screen_gets_no_keyboard_hints(new_page, seminar_notes):
    phone = _reading(new_page)
    help = phone.locator(".annotate-help")
    expect(help).to_contain_text("Select words to highlight them or write a note.")
    expect(help.locator(".keyboard-hint")).to_be_hidden()
    expect(help.get_by_role("button", name="Select with the keyboard")).to_be_hidden()
    # With a keyboard and a mouse, both are there.
    desktop = _reading(new_page, **DESKTOP)
    help = desktop.locator(".annotate-help")
    expect(help.locator(".keyboard-hint")).to_be_visible()
    expect(help.get_by_role("button", name="Select with the keyboard")).to_be_visible()
