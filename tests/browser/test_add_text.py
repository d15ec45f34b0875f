"""Adding a text in a real browser: a file chosen with the file chooser or words pasted, the
preview's paragraphs, saving, the new reading page, and editing its title; each page axe-clean in
light and dark."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SeminarNotes, sign_in
from tests.browser.test_accessibility import SCHEMES, _assert_no_violations

pytestmark = pytest.mark.browser


def expect_paragraphs(page, *shown: tuple[str, str]) -> None:
    """The preview lists these paragraphs, (role, words) each, numbered from ¶1."""
    items = page.locator("ol.text-preview > li")
    expect(items).to_have_count(len(shown))
    for n, (role, words) in enumerate(shown):
        expect(items.nth(n).locator(".preview-number")).to_have_text(f"¶{n + 1}")
        expect(items.nth(n).locator(".preview-role")).to_have_text(role)
        expect(items.nth(n).locator("p")).to_have_text(words)


MARKDOWN = b"""---
author: Leon Trotsky
citation: Pathfinder Press, 1972
---
# The Revolution Betrayed

An editor's note.

---

The Soviet Union has *emerged*.

Second paragraph
wraps.
"""


@SCHEMES
def test_upload_a_file_preview_its_paragraphs_save_and_read_it(new_page, seminar_notes, scheme):
    page = new_page(color_scheme=scheme)
    sign_in(page, SeminarNotes.TEACHER)
    page.goto(f"/groups/{seminar_notes.group_id}")
    page.get_by_role("link", name="Add a new text").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a text")
    expect(page.get_by_label("Add it to the reading list of")).to_have_value(
        str(seminar_notes.group_id)
    )
    _assert_no_violations(page)

    with page.expect_file_chooser() as chosen:
        page.get_by_label("A file").click()
    chosen.value.set_files({"name": "trotsky.md", "mimeType": "text/markdown", "buffer": MARKDOWN})
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: The Revolution Betrayed")
    expect_paragraphs(
        page,
        ("Front matter", "An editor's note."),
        ("Body", "The Soviet Union has *emerged*."),
        ("Body", "Second paragraph wraps."),
    )
    expect(page.locator(".text-details")).to_contain_text("Pathfinder Press, 1972")
    expect(page.get_by_label("URL name", exact=False).first).to_have_value("trotsky")
    _assert_no_violations(page)
    page.locator("details.group-ask > summary").click()  # the form to change the text, open
    _assert_no_violations(page)

    page.get_by_role("button", name="Save this text").click()
    expect(page).to_have_url(re.compile(r"/texts/trotsky$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("The Revolution Betrayed")
    expect(page.locator(".flashes")).to_contain_text("is in the library")
    expect(page.locator("#p2")).to_contain_text("The Soviet Union has *emerged*.")
    expect(page.locator("aside.assignment")).to_contain_text("HIST 210")
    expect(page.locator("footer.citation")).to_contain_text("Pathfinder Press, 1972")


@SCHEMES
def test_paste_a_text_save_it_and_edit_its_title(new_page, page_watch, seminar_notes, scheme):
    page_watch.allow_console_error(r"status of 422")  # the empty title, refused on purpose
    page = new_page(color_scheme=scheme)
    sign_in(page, SeminarNotes.TEACHER)
    page.goto("/")
    page.get_by_role("main").get_by_role("link", name="Add a text").click()
    page.get_by_label("Or paste the text").fill(
        "Pasted Essay - P. Writer\n\nFirst words.\n\nSecond words.\n\nSource: Notebook, 2020"
    )
    page.get_by_label("Plain text").check()
    page.get_by_label("URL name", exact=False).fill("essay")
    page.get_by_role("button", name="Preview").click()
    expect_paragraphs(
        page,
        ("Body", "First words."),
        ("Body", "Second words."),
        ("Citation", "Source: Notebook, 2020"),
    )
    page.get_by_role("button", name="Save this text").click()
    expect(page).to_have_url(re.compile(r"/texts/essay$"))
    expect(page.locator(".byline")).to_have_text("by P. Writer")

    page.get_by_role("link", name="Edit title, author and citation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit “Pasted Essay”")
    _assert_no_violations(page)
    page.get_by_label("Title").fill("")
    page.get_by_label("Title").evaluate("field => field.removeAttribute('required')")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#text-title-field-error")).to_have_text("Give the text a title.")
    expect(page.get_by_label("Title")).to_be_focused()
    _assert_no_violations(page)
    page.get_by_label("Title").fill("A Better Essay")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(r"/texts/essay$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("A Better Essay")
    expect(page.locator("#p1")).to_contain_text("First words.")
