"""The seminar dashboard in a browser: the heatmap's counts, its questions toggle, a cell's
counts on focus, and a cell that opens its paragraph in the group's lens."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import READ_PATH, SeminarNotes, sign_in

pytestmark = pytest.mark.browser


def test_the_heatmap_shows_counts_toggles_questions_and_opens_a_paragraph(new_page, seminar_notes):
    page = new_page(viewport={"width": 1280, "height": 900}, color_scheme="light")
    sign_in(page, SeminarNotes.TEACHER)
    page.goto(f"/groups/{seminar_notes.group_id}")
    page.get_by_role("link", name=re.compile(r"^Dashboard for")).click()
    heatmap = page.get_by_role("list", name="Paragraphs shaded by activity")
    # ¶5: Ann's note (3 words) and Ben's (1), Ben's reply (3) and Ida's answer (3): the busiest.
    busiest = heatmap.get_by_role("link", name=re.compile(r"^¶5 "))
    expect(busiest).to_contain_text("2 notes · 2 replies · 10 words")
    expect(busiest).to_contain_text("hottest")
    expect(busiest).to_have_class(re.compile(r"\bheat-5\b"))
    # Focus shows the counts: the link's title and accessible name carry them.
    busiest.focus()
    expect(busiest).to_be_focused()
    expect(busiest).to_have_attribute("title", "¶5: 2 notes · 2 replies · 10 words (hottest)")
    expect(busiest).to_have_accessible_name(re.compile(r"2 notes · 2 replies · 10 words"))

    page.get_by_role("link", name="questions", exact=True).click()
    questions = page.get_by_role("list", name="Paragraphs shaded by questions")
    quiet = questions.get_by_role("link", name=re.compile(r"^¶5 "))
    expect(quiet).to_contain_text("0 questions")
    expect(quiet).to_have_class(re.compile(r"\bheat-0\b"))
    expect(questions.locator(".heat-hottest")).to_have_count(0)  # no question asked

    page.get_by_role("link", name="activity", exact=True).click()
    page.get_by_role("list", name="Paragraphs shaded by activity").get_by_role(
        "link", name=re.compile(r"^¶5 ")
    ).click()
    expect(page).to_have_url(
        re.compile(re.escape(f"{READ_PATH}?lens=group-{seminar_notes.group_id}#p5") + "$")
    )
    expect(page.locator("#p5")).to_be_in_viewport()
    expect(page.locator(f"#a{seminar_notes.note_id}")).to_be_visible()
