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
