"""axe-core finds no accessibility violations on any page, in light or dark, in any state."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from app.cli import mail_site
from app.models import User
from app.services import mail
from tests.browser.conftest import READ_PATH, SAVE_NOTE, TITLE, SeminarNotes, sign_in
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

SCHEMES = pytest.mark.parametrize("scheme", ["light", "dark"])
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
# Every rule axe runs by default (WCAG 2.0-2.2 A and AA, and best practices), none switched off,
# and WCAG 2.2's target size (2.5.8), which axe-core leaves off unless asked.
AXE = Axe()
AXE_OPTIONS = {"rules": {"target-size": {"enabled": True}}, "resultTypes": ["violations"]}

# Each paragraph of the reading page scrolled into view once, then the page put back where it
# was. A paragraph never shown stands in at a guessed height (content-visibility) while its
# notes, measured, take their real one: axe's geometry then sees one paragraph's margin run over
# the next one's number, which no reader ever sees. Shown once, each keeps its real height.
_SHOW_EVERY_PARAGRAPH = """async () => {
  const [x, y] = [scrollX, scrollY];
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  for (const row of document.querySelectorAll(".para-row")) {
    row.scrollIntoView({ behavior: "instant" });
    await frame();
    await frame();
  }
  window.scrollTo({ left: x, top: y, behavior: "instant" });
  await frame();
}"""


def _assert_no_violations(page) -> None:
    # Every stylesheet applied (a page just navigated to can be visible before): axe judges the
    # colours the reader gets.
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    page.evaluate(_SHOW_EVERY_PARAGRAPH)
    results = AXE.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
    checked = ("passes", "incomplete", "violations")
    ran = {rule["id"] for kind in checked for rule in results.response[kind]}
    assert "target-size" in ran, f"{page.url}: axe did not check target sizes"


def _register(page, name: str, email: str, password: str, confirm: str) -> None:
    page.goto("/auth/register")
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(confirm)
    page.get_by_role("button", name="Create account").click()


@SCHEMES
@pytest.mark.parametrize(
    "path",
    [
        "/",
        READ_PATH,
        f"{READ_PATH}#p5",
        f"{READ_PATH}/print",
        "/auth/login",
        "/auth/register",
        "/search?q=revolution",
    ],
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
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_reading_page_with_a_seminars_notes_has_no_violations(
    new_page, seminar_notes, scheme, size
):
    """Signed in as a member, in the group's lens: others' notes and replies, a private note, a
    highlight; then with a thread, the filters and the margin's forms open."""
    page = new_page(color_scheme=scheme, **(PHONE if size == "phone" else {}))
    sign_in(page, SeminarNotes.MEMBER)
    page.goto(READ_PATH)
    expect(page.locator(".annotate-help")).to_be_visible()  # annotate.js has run
    _assert_no_violations(page)
    note = page.locator(f"#a{seminar_notes.note_id}")
    note.locator("details.replies > summary").click()
    page.locator(".tools-fold > summary").click()
    note.locator("> .note-actions a.reply-link").click()
    expect(note.get_by_label("Your reply")).to_be_focused()
    page.locator("#p5 .margin-tools").get_by_role("link", name="Discuss ¶5").click()
    _assert_no_violations(page)


@SCHEMES
@pytest.mark.parametrize(
    ("who", "path"),
    [
        (SeminarNotes.TEACHER, "/groups/{group_id}"),
        (SeminarNotes.MEMBER, "/notes"),
        (SeminarNotes.MEMBER, "/notes/{note_id}"),
        (SeminarNotes.MEMBER, "/search?q=trade+point+break"),
        (SeminarNotes.TEACHER, "/groups/{group_id}/texts/carr-rapprochement/dashboard"),
        (
            SeminarNotes.TEACHER,
            "/groups/{group_id}/texts/carr-rapprochement/dashboard?show=questions",
        ),
        (SeminarNotes.TEACHER, "/groups/{group_id}/texts/carr-rapprochement/notes"),
        (SeminarNotes.MEMBER, READ_PATH + "?lens=group-{group_id}&heat=1"),
        (SeminarNotes.TEACHER, "/texts/new"),
    ],
    ids=[
        "group",
        "notebook",
        "note",
        "search",
        "dashboard",
        "dashboard-questions",
        "group-notes",
        "heat-strip",
        "add-text",
    ],
)
def test_seminar_pages_have_no_violations(new_page, seminar_notes, scheme, who, path):
    page = new_page(color_scheme=scheme)
    sign_in(page, who)
    page.goto(path.format(group_id=seminar_notes.group_id, note_id=seminar_notes.note_id))
    expect(page.get_by_role("heading", level=1)).to_be_attached()
    _assert_no_violations(page)
    # Every form on the page open: a reply, a flag, who sees a note.
    page.evaluate("document.querySelectorAll('main details').forEach((d) => { d.open = true; })")
    _assert_no_violations(page)


@SCHEMES
def test_search_page_with_a_bad_filter_has_no_violations(new_page, page_watch, scheme):
    page_watch.allow_console_error(r"status of 400")
    page = new_page(color_scheme=scheme)
    page.goto("/search?q=revolution&kind=poem")
    expect(page.get_by_role("alert")).to_contain_text("'kind' must be one of")
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


def _account_page(new_page, scheme: str):
    """A new reader's account page."""
    page = new_page(color_scheme=scheme)
    _register(page, "Reader", "reader@example.org", TEST_PASSWORD, TEST_PASSWORD)
    expect(page.get_by_role("status")).to_be_visible()
    page.goto("/auth/account")
    return page


@SCHEMES
def test_account_page_with_a_new_token_has_no_violations(new_page, scheme):
    page = _account_page(new_page, scheme)
    page.get_by_label("Name").fill("Grading script")
    page.get_by_role("button", name="Make a token").click()
    expect(page.get_by_label("Your new token “Grading script”")).to_have_value(
        re.compile(r"^scholia_")
    )
    _assert_no_violations(page)
    page.get_by_text("Revoke…").click()  # the question before a revoke, open
    expect(page.get_by_role("button", name="Revoke “Grading script”")).to_be_visible()
    _assert_no_violations(page)


@SCHEMES
def test_error_page_has_no_violations(new_page, page_watch, scheme):
    page_watch.allow_console_error(r"status of 404")
    page = new_page(color_scheme=scheme)
    page.goto("/texts/no-such-text")
    _assert_no_violations(page)


@SCHEMES
def test_email_choices_and_the_unsubscribe_pages_have_no_violations(app, session, new_page, scheme):
    app.config["SMTP_URL"] = "smtp://127.0.0.1:25"  # mail configured: nothing is sent here
    page = _account_page(new_page, scheme)
    page.get_by_label("Replies to my notes").select_option("daily")
    page.get_by_role("button", name="Save email choices").click()
    expect(page.get_by_role("status")).to_contain_text("Your email choices are saved.")
    expect(page.get_by_label("Replies to my notes")).to_have_value("daily")
    _assert_no_violations(page)
    reader = session.scalar(select(User.id).where(User.email == "reader@example.org"))
    with app.app_context():
        token = mail.unsubscribe_token(mail_site(app).keys, reader)
    page.goto(f"/auth/unsubscribe/{token}")
    _assert_no_violations(page)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("status")).to_contain_text("no more email from Scholia")
    _assert_no_violations(page)


@SCHEMES
def test_revision_history_and_diff_have_no_violations(new_page, session, seeded, scheme):
    from app.models import Visibility
    from app.services import annotations, corrections
    from app.services.access import viewer_for
    from tests.factories import make_user

    admin = make_user(session, "root@example.org", "Root Admin", is_admin=True)
    viewer = viewer_for(session, admin)
    content = seeded.current_revision.content
    start = content.index("brought hack")
    draft = annotations.Draft(
        text_slug=seeded.slug,
        body="An OCR error",
        target=annotations.SpanTarget(start=start, end=start + len("brought hack")),
        visibility=Visibility.PUBLIC,
        replacement="brought back",
    )
    suggestion = corrections.suggest(session, viewer, draft)
    session.commit()
    corrections.accept(session, viewer, suggestion.id)
    session.commit()
    page = new_page(color_scheme=scheme)
    for path in (
        READ_PATH,  # the accepted suggestion in the margin
        f"{READ_PATH}/revisions",
        f"{READ_PATH}/revisions/compare?from=1&to=2",
        f"/notes/{suggestion.id}",
    ):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        _assert_no_violations(page)
