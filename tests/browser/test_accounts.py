"""Accounts through the real forms, typed at the keyboard, as a visitor would."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import READ_PATH, sign_in_through_the_form
from tests.conftest import TEST_PASSWORD
from tests.factories import make_user

pytestmark = pytest.mark.browser

NAME = "Ada Reader"
EMAIL = "ada@example.org"


def _type_fields(page, first_label: str, values: list[str]) -> None:
    """Focus the first field, then type each value and Tab to the next, as a typist does."""
    page.get_by_label(first_label, exact=True).focus()
    for i, value in enumerate(values):
        if i:
            page.keyboard.press("Tab")
        page.keyboard.type(value)
    page.keyboard.press("Enter")


def _signed_in_as(page, name: str) -> None:
    header = page.get_by_role("banner")
    expect(header).to_contain_text(name)
    expect(header.get_by_role("button", name="Sign out")).to_be_visible()
    expect(header.get_by_role("link", name="Sign in")).to_have_count(0)


def _signed_out(page) -> None:
    header = page.get_by_role("banner")
    expect(header.get_by_role("link", name="Sign in")).to_be_visible()
    expect(header.get_by_role("link", name="Register")).to_be_visible()
    expect(header.get_by_role("button", name="Sign out")).to_have_count(0)


def test_register_sign_out_and_sign_in_again(page, page_watch):
    page.goto("/")
    _signed_out(page)
    page.get_by_role("banner").get_by_role("link", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register")
    _type_fields(page, "Display name", [NAME, EMAIL, TEST_PASSWORD, TEST_PASSWORD])
    expect(page.get_by_role("status")).to_have_text(f"Welcome, {NAME}. Your account is ready.")
    _signed_in_as(page, NAME)
    expect(page.get_by_role("heading", level=1)).to_have_text("Library")

    signout = page.get_by_role("button", name="Sign out")
    signout.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("You are signed out on every device.")
    _signed_out(page)

    # A wrong password: the form says so and nobody is signed in.
    page_watch.allow_console_error(r"status of 401")
    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    _type_fields(page, "Email", [EMAIL, "not the password"])
    expect(page.get_by_role("alert")).to_have_text("The email address or password is not correct.")
    _signed_out(page)

    # The right one, typed into the same form (the email field kept its value).
    expect(page.get_by_label("Email", exact=True)).to_have_value(EMAIL)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    page.get_by_label("Password", exact=True).focus()
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    _signed_in_as(page, NAME)

    # The session carries over to the reading page.
    page.goto(READ_PATH)
    _signed_in_as(page, NAME)


def test_register_form_explains_its_errors(page, page_watch):
    page_watch.allow_console_error(r"status of 400")
    page.goto("/auth/register")
    _type_fields(page, "Display name", [NAME, EMAIL, "short", "different"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Register")
    # Each message shows beside its field and is tied to it (aria-describedby), so a screen
    # reader reads it with the field; the hint stays part of the description.
    for label, hint in (("Password", "At least 10 characters."), ("Repeat password", None)):
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        error = page.locator(f"#{field.get_attribute('id')}-error")
        expect(error).to_be_visible()
        message = error.inner_text().strip()
        assert message
        description = re.compile(re.escape(f"{hint} {message}" if hint else message))
        expect(field).to_have_accessible_description(description)
    expect(page.get_by_label("Display name")).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Display name")).to_have_value(NAME)
    _signed_out(page)


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page):
    page.goto(READ_PATH)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # hidden until focused, then shown
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    # The next Tab continues inside the page's content, past the site header.
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('main')")


NEW_PASSWORD = "a brand new passphrase"


def test_a_new_password_on_the_account_page_signs_out_every_other_device(
    new_page, page_watch, session
):
    make_user(session, EMAIL, NAME)
    laptop = new_page(viewport={"width": 1280, "height": 900})
    phone = new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    for page in (laptop, phone):
        sign_in_through_the_form(page, EMAIL)
        _signed_in_as(page, NAME)

    laptop.get_by_role("banner").get_by_role("link", name="Account").click()
    expect(laptop.get_by_role("heading", level=1)).to_have_text("Account")
    expect(laptop.get_by_role("banner").get_by_role("link", name="Account")).to_have_attribute(
        "aria-current", "page"
    )
    expect(laptop.get_by_role("main")).to_contain_text(EMAIL)

    # A wrong current password: said beside the field, and nothing changes.
    page_watch.allow_console_error(r"status of 400")
    _type_fields(laptop, "Current password", ["not my password", NEW_PASSWORD, NEW_PASSWORD])
    current = laptop.get_by_label("Current password")
    expect(current).to_have_attribute("aria-invalid", "true")
    expect(current).to_have_accessible_description(re.compile("not correct"))
    results = Axe().run(laptop)
    assert results.violations_count == 0, results.generate_report()

    _type_fields(laptop, "Current password", [TEST_PASSWORD, NEW_PASSWORD, NEW_PASSWORD])
    expect(laptop.get_by_role("status")).to_have_text(
        "Your password is changed. You are signed out on every other device."
    )
    laptop.goto(READ_PATH)
    _signed_in_as(laptop, NAME)  # this browser goes on
    phone.reload()
    _signed_out(phone)  # the other is signed out

    sign_in_through_the_form(phone, EMAIL, NEW_PASSWORD)
    _signed_in_as(phone, NAME)


def test_signing_out_signs_out_every_device(new_page, session):
    make_user(session, EMAIL, NAME)
    laptop, phone = new_page(), new_page()
    for page in (laptop, phone):
        sign_in_through_the_form(page, EMAIL)
    phone.goto(READ_PATH)
    laptop.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(laptop.get_by_role("status")).to_have_text("You are signed out on every device.")
    phone.reload()
    _signed_out(phone)
