"""A suggested correction in the browser: a reader selects the words and suggests the fix, an
instructor of the group reading the text accepts it, every open page shows the new words, and
the revisions' diff shows the change."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Annotation, Motivation
from app.services import groups
from app.services.access import viewer_for
from tests.browser.conftest import READ_PATH, drag_select, sign_in
from tests.factories import make_group, make_user

pytestmark = pytest.mark.browser

OCR = "Rcichswehr"
FIXED = "Reichswehr"


def _paragraph_with(text, words: str) -> int:
    (number,) = (p.number for p in text.current_revision.paragraphs if words in p.body)
    return number


def test_suggest_accept_and_see_the_change(new_page, session, seeded):
    teacher = make_user(session, "ida@example.org", "Ida Teacher")
    student = make_user(session, "ann@example.org", "Ann Student")
    group = make_group(session, teacher, student)
    groups.add_reading(session, viewer_for(session, teacher), group.id, seeded.slug)
    session.commit()
    number = _paragraph_with(seeded, OCR)

    ann = new_page(viewport={"width": 1280, "height": 900})
    sign_in(ann, "ann@example.org")
    ann.goto(READ_PATH)
    expect(ann.locator(".keyboard-mode")).to_be_visible()  # annotate.js has run
    suggest = ann.locator(".annotate-toolbar button[data-action=suggest]")
    drag_select(ann, number, OCR)
    expect(suggest).to_be_visible()
    suggest.click()
    editor = ann.locator(f"#p{number} .margin .suggest-editor")
    replacement = editor.get_by_label("Correct these words to")
    expect(replacement).to_be_focused()
    expect(replacement).to_have_value(OCR)
    replacement.fill(FIXED)
    editor.get_by_label("Why (optional)").fill("An OCR error.")
    editor.get_by_label("Who sees this").select_option(label="Group: Carr seminar")
    editor.get_by_role("button", name="Suggest").click()
    card = ann.locator(f"#p{number} .margin .note").filter(has=ann.locator(".suggestion"))
    expect(card.locator(".suggestion del")).to_have_text(f"[remove: {OCR}]")
    expect(card.locator(".suggestion ins")).to_have_text(f"[put: {FIXED}]")
    expect(card.locator(".suggestion-state")).to_contain_text("Open")

    session.commit()
    suggestion = session.scalar(
        select(Annotation.id).where(Annotation.motivation == Motivation.EDITING)
    )
    ida = new_page(viewport={"width": 1280, "height": 900})
    sign_in(ida, "ida@example.org")
    ida.goto(f"/notes/{suggestion}")
    ida.get_by_role("button", name="Accept").click()
    expect(ida.get_by_text(re.compile(r"Accepted: revision 2 of the text"))).to_be_visible()
    expect(ida.locator(".suggestion-state")).to_contain_text("Accepted in revision 2")

    # Ann's page, open all along, takes the new words (live); a new load has them too.
    paragraph = ann.locator(f"#p{number} p.para")
    expect(paragraph).to_contain_text(FIXED)
    expect(paragraph).not_to_contain_text(OCR)
    ida.goto(READ_PATH)
    expect(ida.locator(f"#p{number} p.para")).to_contain_text(FIXED)

    ida.goto(f"{READ_PATH}/revisions")
    expect(ida.locator(".revision-list > li")).to_have_count(2)
    ida.get_by_role("link", name="What changed from revision 1").click()
    expect(ida.locator(".diff del")).to_have_text(f"[removed: {OCR}]")
    expect(ida.locator(".diff ins")).to_have_text(f"[added: {FIXED}]")
    # The pick-two form, without script: from 2 to 1 shows the change the other way round.
    ida.get_by_label("From revision").select_option("2")
    ida.get_by_label("To revision").select_option("1")
    ida.get_by_role("button", name="Compare").click()
    expect(ida.locator(".diff del")).to_have_text(f"[removed: {FIXED}]")
