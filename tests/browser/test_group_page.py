"""The group page as an instructor uses it: copying the invite link, making a new one, removing a
member, editing the reading list; each change that cannot be taken back asks first."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import SCHEMES, _assert_no_violations
from tests.factories import make_group, make_user

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
TITLE = "Rapprochement; how the Bolsheviks came to love capitalists"


@pytest.fixture
def group_id(session, seeded) -> int:
    """Ida owns the Carr seminar; Ann and Ben are members; the Carr text is due 1 March 2030."""
    from datetime import date

    from app.services import groups
    from app.services.access import viewer_for

    ida = make_user(session, "ida@example.org", "Ida Instructor")
    ann = make_user(session, "ann@example.org", "Ann Student")
    ben = make_user(session, "ben@example.org", "Ben Student")
    make_user(session, "cy@example.org", "Cy Newcomer")
    group = make_group(session, ida, ann, ben)
    groups.add_reading(
        session, viewer_for(session, ida), group.id, seeded.slug, date(2030, 3, 1), "Read ¶4."
    )
    session.commit()
    return group.id


def _group_page(new_page, group_id: int, email="ida@example.org", **options):
    page = new_page(**DESKTOP, **options)
    sign_in(page, email)
    page.goto(f"/groups/{group_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Carr seminar")
    return page


def _invite(page) -> str:
    return page.get_by_label("Anyone signed in who has this link can join:").input_value()


def test_the_copy_button_puts_the_invite_link_on_the_clipboard(new_page, group_id):
    page = _group_page(new_page, group_id, permissions=["clipboard-read", "clipboard-write"])
    link = _invite(page)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/join/[\w-]+", link)
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == link


def test_a_clipboard_that_refuses_says_so_and_selects_the_link(new_page, group_id):
    page = new_page(**DESKTOP)
    # As a browser whose reader (or whose policy) denied the page the clipboard.
    page.add_init_script(
        "navigator.clipboard.writeText = () => "
        "Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'))"
    )
    sign_in(page, "ida@example.org")
    page.goto(f"/groups/{group_id}")
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your browser did not let this page copy the link. "
        "It is selected: press Ctrl+C (⌘C on a Mac) to copy it."
    )
    field = page.locator("#invite-link")
    expect(field).to_be_focused()
    selected = field.evaluate("f => f.value.slice(f.selectionStart, f.selectionEnd)")
    assert selected == _invite(page)


def test_without_javascript_the_link_is_there_to_select_and_no_button_pretends(new_page, group_id):
    page = _group_page(new_page, group_id, java_script_enabled=False)
    expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
    field = page.get_by_label("Anyone signed in who has this link can join:")
    expect(field).to_have_attribute("readonly", "")
    # The disclosures that ask first need no script either.
    page.get_by_text("Make a new link…").click()
    expect(page.get_by_role("button", name="Make a new link")).to_be_visible()


def test_a_new_link_is_made_after_confirming_and_the_old_one_no_longer_joins(
    new_page, page_watch, group_id
):
    page_watch.allow_console_error(r"status of 404")
    page = _group_page(new_page, group_id)
    old = _invite(page)

    make = page.get_by_role("button", name="Make a new link")
    expect(make).to_be_hidden()  # not before the instructor has read what it does
    page.get_by_text("Make a new link…").click()
    expect(page.locator("details[open]")).to_contain_text(
        "The current link will stop working; people who have not joined yet will need the new one."
    )
    make.click()
    expect(page.get_by_role("status").first).to_have_text("New invite link made.")
    new = _invite(page)
    assert new != old

    newcomer = new_page(**DESKTOP)
    sign_in(newcomer, "cy@example.org")
    newcomer.goto(old)
    expect(newcomer.get_by_role("main")).to_contain_text("This invite link is not valid")
    newcomer.goto(new)
    newcomer.get_by_role("button", name="Join the group").click()
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Carr seminar")
    expect(newcomer.get_by_role("status")).to_have_text("Welcome to Carr seminar.")


def test_a_member_is_removed_after_confirming(new_page, page_watch, group_id):
    page_watch.allow_console_error(r"status of 404")
    page = _group_page(new_page, group_id)
    members = page.get_by_role("list").filter(has_text="Ann Student")

    page.get_by_text("Remove Ben Student…").click()
    asked = page.locator("details[open]")
    expect(asked).to_contain_text("Ben Student leaves the group at once")
    expect(asked).to_contain_text("the invite link will not let them back in")
    asked.get_by_role("button", name="Remove Ben Student").click()

    expect(page.get_by_role("status").first).to_have_text("Member removed.")
    expect(members).not_to_contain_text("Ben Student")
    removed = page.get_by_role("heading", name="Removed")
    expect(removed).to_be_visible()
    expect(page.get_by_role("button", name="Let Ben Student join again")).to_be_visible()

    ben = new_page(**DESKTOP)
    sign_in(ben, "ben@example.org")
    ben.goto(f"/groups/{group_id}")
    expect(ben.get_by_role("heading", level=1)).not_to_have_text("Carr seminar")


def test_a_readings_due_date_and_prompt_are_edited_in_place(new_page, group_id):
    page = _group_page(new_page, group_id)
    entry = page.locator(".reading-list > li").filter(has_text=TITLE)
    expect(entry.locator("time")).to_have_text("1 March 2030")

    entry.get_by_text("Edit").click()
    due = entry.get_by_label("Due date")
    expect(due).to_have_value("2030-03-01")
    due.fill("2030-04-15")
    entry.get_by_label("Prompt shown above the text").fill("Where does Carr hedge?")
    entry.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("status").first).to_have_text("Reading list updated.")
    entry = page.locator(".reading-list > li").filter(has_text=TITLE)
    expect(entry.locator("time")).to_have_text("15 April 2030")
    expect(entry.locator(".assignment-prompt")).to_have_text("Where does Carr hedge?")

    ann = new_page(**DESKTOP)
    sign_in(ann, "ann@example.org")
    ann.goto(f"/groups/{group_id}")
    expect(ann.locator(".reading-list time")).to_have_text("15 April 2030")
    expect(ann.get_by_text("Edit", exact=True)).to_have_count(0)


def _refuse_an_edit(page) -> None:
    """Edit the reading with a date the server cannot read, as a browser without a date picker
    sends what was typed; a prompt typed with it."""
    entry = page.locator(".reading-list > li").filter(has_text=TITLE)
    entry.get_by_text("Edit").click()
    due = entry.get_by_label("Due date")
    due.evaluate("field => { field.type = 'text'; }")
    due.fill("next Tuesday")
    entry.get_by_label("Prompt shown above the text").fill("Words worth keeping.")
    entry.get_by_role("button", name="Save changes").click()


def test_a_refused_edit_says_why_beside_the_date_and_keeps_the_prompt(
    new_page, page_watch, group_id
):
    page_watch.allow_console_error(r"status of 400")
    page = _group_page(new_page, group_id)
    _refuse_an_edit(page)

    entry = page.locator(".reading-list > li").filter(has_text=TITLE)
    due = entry.get_by_label("Due date")
    expect(due).to_be_focused()
    expect(due).to_have_accessible_description(
        "“next Tuesday” is not a date: give the due date as YYYY-MM-DD, or none."
    )
    expect(entry.get_by_label("Prompt shown above the text")).to_have_value("Words worth keeping.")
    expect(entry.locator("time")).to_have_text("1 March 2030")  # nothing changed
    due.fill("2030-05-02")
    entry.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").first).to_have_text("Reading list updated.")
    expect(page.locator(".reading-list time")).to_have_text("2 May 2030")
    expect(page.locator(".assignment-prompt")).to_have_text("Words worth keeping.")


@SCHEMES
def test_the_group_page_has_no_violations_with_its_disclosures_open_or_shut(
    new_page, page_watch, group_id, scheme
):
    page_watch.allow_console_error(r"status of 400")
    page = _group_page(new_page, group_id, color_scheme=scheme)
    _assert_no_violations(page)  # target size included
    for summary in page.locator("details.group-ask > summary").all():
        summary.click()
    page.get_by_role("button", name="Copy link").focus()
    _assert_no_violations(page)  # target size included
    page.reload()  # the disclosures shut again
    _refuse_an_edit(page)
    expect(page.locator(".field.has-error")).to_be_visible()
    _assert_no_violations(page)  # target size included
