"""axe-core finds no accessibility violations on any page, in light or dark, in any state."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import READ_PATH, SAVE_NOTE, TITLE
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

SCHEMES = pytest.mark.parametrize("scheme", ["light", "dark"])
# Every rule axe runs by default (WCAG 2.0-2.2 A and AA, and best practices), none switched off.
AXE = Axe()


def _assert_no_violations(page) -> None:
    # Every stylesheet applied (a page just navigated to can be visible before): axe judges the
    # colours the reader gets.
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    results = AXE.run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def _register(page, name: str, email: str, password: str, confirm: str) -> None:
    page.goto("/auth/register")
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(confirm)
    page.get_by_role("button", name="Create account").click()


@SCHEMES
@pytest.mark.parametrize(
    "path", ["/", READ_PATH, f"{READ_PATH}#p5", "/auth/login", "/auth/register"]
)
def test_pages_have_no_violations(new_page, scheme, path):
    page = new_page(color_scheme=scheme)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _assert_no_violations(page)


@SCHEMES
def test_phone_reading_page_has_no_violations(new_page, scheme):
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, color_scheme=scheme)
    page.goto(READ_PATH)
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    _assert_no_violations(page)


@SCHEMES
def test_register_page_with_errors_has_no_violations(new_page, page_watch, scheme):
    page_watch.allow_console_error(r"status of 40[09]")
    page = new_page(color_scheme=scheme)
    _register(page, "", "not an address", "short", "other")
    expect(page.locator(".field.has-error").first).to_be_visible()
    _assert_no_violations(page)
    # An address already taken: the form's own error, beside the email field.
    _register(page, "First", "taken@example.org", TEST_PASSWORD, TEST_PASSWORD)
    page.get_by_role("button", name="Sign out").click()
    _register(page, "Second", "taken@example.org", TEST_PASSWORD, TEST_PASSWORD)
    expect(page.locator("#email-error")).to_be_visible()
    _assert_no_violations(page)


@SCHEMES
def test_login_page_with_error_has_no_violations(new_page, page_watch, scheme):
    page_watch.allow_console_error(r"status of 40[01]")
    page = new_page(color_scheme=scheme)
    page.goto("/auth/login")
    page.get_by_role("button", name="Sign in").click()  # empty form
    expect(page.locator(".field.has-error").first).to_be_visible()
    _assert_no_violations(page)
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    _assert_no_violations(page)


@SCHEMES
def test_signed_in_pages_have_no_violations(new_page, scheme):
    page = new_page(color_scheme=scheme)
    _register(page, "Reader", "reader@example.org", TEST_PASSWORD, TEST_PASSWORD)
    expect(page.get_by_role("status")).to_be_visible()  # the welcome message
    _assert_no_violations(page)
    page.goto(READ_PATH)
    _assert_no_violations(page)
    # A note on a paragraph, written through the form in the margin, then the notebook.
    page.get_by_text("Note on ¶4").click()
    page.get_by_label("Your note on paragraph 4").fill("Compare *Rapallo*, ¶9.")
    page.locator("#p4").get_by_role("button", name=SAVE_NOTE).click()
    expect(page.locator("#p4 .margin")).to_contain_text("Compare Rapallo, ¶9.")
    _assert_no_violations(page)
    page.get_by_role("banner").get_by_role("link", name="Notebook").click()
    expect(page.get_by_role("main")).to_contain_text("Compare Rapallo, ¶9.")
    _assert_no_violations(page)


@SCHEMES
def test_error_page_has_no_violations(new_page, page_watch, scheme):
    page_watch.allow_console_error(r"status of 404")
    page = new_page(color_scheme=scheme)
    page.goto("/texts/no-such-text")
    _assert_no_violations(page)
