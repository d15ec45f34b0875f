"""Flags in real browsers (issue 17): a member flags a note where they read it, sees the thanks
there, and is not offered Flag on it again; the instructor is told in the inbox and sees whose
note was flagged, by whom and why. Without JavaScript the same flow goes through the note's page.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import READ_PATH, sign_in
from tests.factories import make_annotation, make_group, make_user

pytestmark = pytest.mark.browser

AXE = Axe()
WORDS = "rightly hailed as a break-through"  # in ¶5
REASON = "Off topic?"
THANKS = "Flagged. Thank you: the instructors will see your flag."


@pytest.fixture
def flaggable(session, seeded):
    """Ida teaches Ann, Ben and Cy; Ann's note on ¶5 is for the group. Its id and the lens."""
    ida = make_user(session, "ida@example.org", "Ida Instructor")
    ann, ben, cy = (
        make_user(session, f"{name.lower()}@example.org", f"{name} Student")
        for name in ("Ann", "Ben", "Cy")
    )
    group = make_group(session, ida, ann, ben, cy, name="Carr seminar")
    note = make_annotation(session, ann, seeded, WORDS, body="A turning point.", group=group)
    session.commit()
    return note.id, f"{READ_PATH}?lens=group-{group.id}", group.id


def _assert_no_violations(page) -> None:
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    results = AXE.run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_member_flags_in_the_margin_and_the_instructor_is_told(new_page, flaggable, scheme):
    note, lens, group_id = flaggable
    ben = new_page(color_scheme=scheme)
    sign_in(ben, "ben@example.org")
    ben.goto(lens)
    expect(ben.locator(".keyboard-mode")).to_be_visible()  # the scripts have run
    ben.evaluate("window.__sameDocument = true")
    card = ben.locator(f"#p5 #a{note}")
    card.locator("> .note-actions a.flag-link").click()
    card.get_by_label("Why does this need an instructor's attention?").fill(REASON)
    card.get_by_role("button", name="Send flag").click()
    # The thanks takes the form's place, and the focus: the reader is where they were.
    thanks = card.get_by_role("status")
    expect(thanks).to_have_text(THANKS)
    expect(thanks).to_be_focused()
    expect(thanks).to_be_in_viewport()
    assert ben.evaluate("window.__sameDocument === true")  # no page was loaded
    actions = card.locator("> .note-actions")
    expect(actions.locator("a.flag-link")).to_have_count(0)
    expect(actions.locator(".flagged-label")).to_have_text("Flagged")
    _assert_no_violations(ben)
    # Reloaded, the margin still offers Flag to nobody who flagged it already.
    ben.reload()
    expect(ben.locator(".keyboard-mode")).to_be_visible()
    actions = ben.locator(f"#p5 #a{note} > .note-actions")
    expect(actions.locator(".flagged-label")).to_have_text("Flagged")
    expect(actions.locator("a.flag-link")).to_have_count(0)
    # The note's own page says when and why, instead of the form.
    ben.goto(f"/notes/{note}")
    expect(ben.locator(f"#flag-{note}")).to_contain_text("You flagged this note on")
    expect(ben.get_by_role("button", name="Send flag")).to_have_count(0)
    _assert_no_violations(ben)
    # Another member still has it.
    cy = new_page(color_scheme=scheme)
    sign_in(cy, "cy@example.org")
    cy.goto(lens)
    expect(cy.locator(".keyboard-mode")).to_be_visible()
    expect(cy.locator(f"#p5 #a{note} > .note-actions a.flag-link")).to_be_visible()

    # The instructor's inbox says who flagged whose note, and why; so does the flag list.
    ida = new_page(color_scheme=scheme)
    sign_in(ida, "ida@example.org")
    ida.goto("/")
    ida.get_by_role("banner").get_by_role("link", name="Inbox").click()
    notice = ida.locator("li.inbox-item")
    expect(notice).to_contain_text("Ben Student flagged Ann Student’s note on")
    expect(notice.locator(".flag-reason")).to_have_text(f"Why: “{REASON}”")
    _assert_no_violations(ida)
    ida.goto(f"/groups/{group_id}")
    expect(ida.locator(".flags li")).to_contain_text(
        f"Note by Ann Student, flagged by Ben Student: “{REASON}”"
    )
    _assert_no_violations(ida)
    # The link leads to the note in the group's lens.
    ida.goto("/inbox")
    notice.get_by_role("link").first.click()
    expect(ida.locator(f"#a{note}")).to_be_in_viewport()


def test_without_javascript_the_note_page_flags_and_says_so(new_page, flaggable):
    note, lens, _ = flaggable
    cy = new_page(java_script_enabled=False)
    sign_in(cy, "cy@example.org")
    cy.goto(f"{lens}&kind=note")
    cy.locator(f"#p5 #a{note} > .note-actions").get_by_role("link", name="Flag").click()
    # The note's own page, its Flag form open.
    field = cy.get_by_label("Why does this need an instructor's attention?")
    expect(field).to_be_visible()
    field.fill(REASON)
    cy.get_by_role("button", name="Send flag").click()
    # Back on the note's page, at the note, which now says so beside the thanks.
    said = cy.locator(f"#flag-{note}")
    expect(said).to_contain_text("You flagged this note on")
    expect(said).to_contain_text(f"“{REASON}”")
    expect(said).to_be_in_viewport()
    expect(cy.locator(".flash-success")).to_contain_text("the instructors will see your flag")
    expect(cy.get_by_role("button", name="Send flag")).to_have_count(0)
    # Its way back is to the reading page as it was, at the note.
    cy.get_by_role("link", name="Back to").click()
    expect(cy.locator("#lens")).to_have_value(lens.split("lens=")[1])
    assert "kind=note" in cy.url and cy.url.endswith(f"#a{note}")
    expect(cy.locator(f"#a{note}")).to_be_in_viewport()
    # The margin is the same for every member; its Flag leads to the page that says so.
    cy.locator(f"#p5 #a{note} > .note-actions").get_by_role("link", name="Flag").click()
    expect(cy.locator(f"#flag-{note}")).to_contain_text("You flagged this note on")
