"""A pinned prompt in real browsers: the instructor pins a question to a paragraph from the
reading page; a student's open page gets it live at the head of the paragraph's discussion, and
the student answers there. Both pages stay axe-clean, light and dark."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import User
from app.services import prompts
from app.services.access import viewer_for
from tests.browser.conftest import SeminarNotes, sign_in
from tests.browser.test_accessibility import _assert_no_violations
from tests.browser.test_seminar import GROUP, LIVE_MS, _open_reading, seminar  # noqa: F401
from tests.functional.test_prompts import _revise

pytestmark = pytest.mark.browser

QUESTION = "Why does **trade** come before recognition?"


def test_an_instructor_pins_a_question_and_a_student_answers_under_it(seminar):  # noqa: F811
    s = seminar
    row = s.teacher.locator("#p4")
    expect(s.a.locator("#p4").get_by_role("link", name="Pin a question to ¶4")).to_have_count(0)
    row.get_by_role("link", name="Pin a question to ¶4").click()
    field = s.teacher.locator("#p4").get_by_label(f"Question pinned to ¶4 for {GROUP}")
    field.fill(QUESTION)
    s.teacher.locator("#p4").get_by_role("button", name="Pin the question").click()
    expect(s.teacher.locator(".flash-success")).to_contain_text("heads the discussion of ¶4")
    prompt = s.teacher.locator("#p4 details.discussion > .prompt")
    expect(prompt.locator(".prompt-head")).to_have_text("Prompt from Ida Instructor")

    # Student A's open page gets it live, heading the discussion, the Markdown rendered.
    discussion = s.a.locator("#p4 details.discussion")
    expect(discussion.locator("summary")).to_have_text(
        "Prompt and discussion of ¶4 (0)", timeout=LIVE_MS
    )
    expect(discussion).to_have_attribute("open", "")
    expect(discussion.locator(".prompt .prompt-head")).to_have_text("Prompt from Ida Instructor")
    expect(discussion.locator(".prompt .note-body strong")).to_have_text("trade")
    expect(discussion.get_by_role("link", name="Edit or unpin")).to_have_count(0)
    _assert_no_violations(s.a)

    # A answers with the discussion's form, in place; the answer follows the question.
    s.a.locator("#p4").get_by_role("link", name="Discuss ¶4").click()
    s.a.locator("#p4").get_by_label(f"Say something about ¶4 to {GROUP}").fill("Trade came first.")
    s.a.locator("#p4").get_by_role("button", name="Post").click()
    expect(discussion.locator("summary")).to_have_text("Prompt and discussion of ¶4 (1)")
    expect(discussion.locator(".prompt + .thread .reply")).to_contain_text("Trade came first.")
    # The instructor's page hears of the answer too.
    expect(s.teacher.locator("#p4 details.discussion .reply")).to_contain_text(
        "Trade came first.", timeout=LIVE_MS
    )

    # The instructor's form, open again to edit, is axe-clean in the dark too.
    s.teacher.locator("#p4").get_by_role("link", name="Edit or unpin").click()
    expect(s.teacher.locator("#prompt-4")).to_have_value(QUESTION)
    s.teacher.emulate_media(color_scheme="dark")
    _assert_no_violations(s.teacher)
    s.a.emulate_media(color_scheme="dark")
    _assert_no_violations(s.a)

    # Unpinned: the discussion stays, the answer in it, on A's page too.
    s.teacher.locator("#p4").get_by_role("button", name="Unpin the question").click()
    expect(s.teacher.locator(".flash-success")).to_contain_text("Question unpinned from ¶4")
    expect(discussion.locator("summary")).to_have_text("Discussion of ¶4 (1)", timeout=LIVE_MS)
    expect(discussion.locator(".prompt")).to_have_count(0)
    expect(discussion.locator(".reply")).to_contain_text("Trade came first.")
    _open_reading(s.a, s.group_id)  # and after a reload, as the server sends it
    expect(s.a.locator("#p4 details.discussion .prompt")).to_have_count(0)


def test_a_question_beside_a_short_paragraph_stays_in_view(seminar, session):  # noqa: F811
    """Beside a paragraph too short for its margin, the page folds the margin's notes and a
    discussion (fit.js), but not a discussion headed by a question: it is what members must see."""
    s = seminar
    ida = session.scalar(select(User).where(User.email == "ida@example.org"))
    question = "Why open with Lenin's car? " * 12
    prompts.pin(session, viewer_for(session, ida), "carr-rapprochement", s.group_id, 1, question)
    session.commit()
    discussion = s.a.locator("#p1 details.discussion")
    expect(discussion.locator(".prompt .note-body")).to_be_visible(timeout=LIVE_MS)
    _open_reading(s.a, s.group_id)  # as the server sends it, fitted on arrival
    expect(discussion).to_have_attribute("open", "")
    expect(discussion.locator(".prompt .note-body")).to_be_visible()
    expect(discussion).not_to_have_class(re.compile(r"\bis-folded\b"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_dashboard_lists_the_questions_and_unpins_one_revised_away(
    new_page, session, seeded, seminar_notes, tmp_path, scheme
):
    ida = viewer_for(
        session, session.scalar(select(User).where(User.email == SeminarNotes.TEACHER))
    )
    text = seeded
    sixth = text.current_revision.spans()[5].paragraph.body
    for number in (4, 6):
        prompts.pin(session, ida, text.slug, seminar_notes.group_id, number, f"Why ¶{number}?")
    session.commit()
    _revise(session, tmp_path, lambda ps: [p for p in ps if p.strip() != sixth])

    page = new_page(color_scheme=scheme)
    sign_in(page, SeminarNotes.TEACHER)
    page.goto(f"/groups/{seminar_notes.group_id}/texts/{text.slug}/dashboard")
    listed = page.locator("li.prompt")
    expect(listed).to_have_count(2)
    expect(listed.nth(1).locator(".prompt-head")).to_contain_text("A paragraph since revised away")
    _assert_no_violations(page)
    listed.nth(1).get_by_role("button", name="Unpin the question").click()
    expect(page.locator(".flash-success")).to_contain_text("Question unpinned")
    expect(listed).to_have_count(1)
    expect(listed.locator(".note-body")).to_have_text("Why ¶4?")
