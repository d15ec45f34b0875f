"""Seminars in real browsers: an instructor and two students, each in a browser context of their
own, reading the Carr text together. What one does reaches the others' open pages live (the page
polls its text's change log every 2.5 s), without a reload and without moving anyone's place."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import (
    READ_PATH,
    SAVE_NOTE,
    drag_select,
    expect_marks,
    note_span,
    open_note_editor,
    sign_in,
    sign_in_through_the_form,
    wait_for_scroll_to_settle,
)
from tests.factories import make_user

pytestmark = pytest.mark.browser

LIVE_MS = 5_000  # a live change shows within two polls
PROMPT = "Where does Carr see economics give way to politics? Mark the turning points."
GROUP = "Carr seminar"
WORDS = "rightly hailed as a break-through"  # in ¶5
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "color_scheme": "light"}
AXE = Axe()


@dataclass
class Seminar:
    group_id: int
    teacher: object  # the instructor's page
    a: object  # student A's page
    b: object  # student B's page

    @property
    def audience(self) -> str:
        return f"group-{self.group_id}"


def _open_reading(page, group_id: int) -> None:
    page.goto(READ_PATH)
    expect(page.locator("#lens")).to_have_value(f"group-{group_id}")
    # Live updates are running and no reload will go unnoticed: a reload clears this.
    page.evaluate("window.__sameDocument = true")


def _same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


@pytest.fixture
def seminar_through_pages(new_page, session) -> Seminar:
    """Through the pages: the instructor starts a group, puts the text on its reading list with a
    prompt; both students join by the invite link; everyone has the reading page open."""
    make_user(session, "ida@example.org", "Ida Instructor")
    make_user(session, "ann@example.org", "Ann Student")
    make_user(session, "ben@example.org", "Ben Student")
    teacher, a, b = (new_page(**DESKTOP) for _ in range(3))

    sign_in_through_the_form(teacher, "ida@example.org")
    teacher.goto("/groups")
    teacher.locator("#name").fill(GROUP)
    teacher.get_by_role("button", name="Create group").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(GROUP)
    group_id = int(re.search(r"/groups/(\d+)", teacher.url).group(1))
    teacher.locator("#text").select_option("carr-rapprochement")
    teacher.locator("#prompt").fill(PROMPT)
    teacher.get_by_role("button", name="Add to the reading list").click()
    expect(teacher.locator(".flash-success")).to_contain_text("Reading list updated.")
    invite = teacher.locator("#invite-link").input_value()

    for page, email in ((a, "ann@example.org"), (b, "ben@example.org")):
        sign_in_through_the_form(page, email)
        page.goto(invite)
        page.get_by_role("button", name="Join the group").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(GROUP)
        expect(page.locator(".flash-success")).to_contain_text(f"Welcome to {GROUP}.")

    for page in (teacher, a, b):
        _open_reading(page, group_id)
    return Seminar(group_id, teacher, a, b)


@pytest.fixture
def seminar(new_page, session, seeded) -> Seminar:
    """The same seminar, its group and reading list made through the services (the pages that
    make them are used once, above): everyone signed in with the reading page open."""
    from app.services import groups
    from app.services.access import viewer_for
    from tests.factories import make_group

    teacher_user = make_user(session, "ida@example.org", "Ida Instructor")
    students = [
        make_user(session, "ann@example.org", "Ann Student"),
        make_user(session, "ben@example.org", "Ben Student"),
    ]
    group = make_group(session, teacher_user, *students, name=GROUP)
    groups.add_reading(
        session, viewer_for(session, teacher_user), group.id, seeded.slug, None, PROMPT
    )
    session.commit()
    pages = []
    for email in ("ida@example.org", "ann@example.org", "ben@example.org"):
        page = new_page(**DESKTOP)
        sign_in(page, email)
        _open_reading(page, group.id)
        pages.append(page)
    return Seminar(group.id, *pages)


def caught_up(page) -> None:
    """Wait until the page's live updates hold everything the change log has now (the cursor
    live.js marks after each poll and its refresh): what is not shown then is not coming."""
    now = page.evaluate(
        "fetch(`/api/v1/texts/${document.querySelector('meta[name=text-slug]').content}/events`)"
        ".then((r) => r.json()).then((d) => d.cursor)"
    )
    page.wait_for_function(
        "(cursor) => Number(document.documentElement.dataset.caughtUp) >= cursor",
        arg=now,
        timeout=LIVE_MS,
    )


def _post_note(page, paragraph: int, words: str, body: str, audience: str) -> int:
    """Select ``words``, write ``body`` for ``audience`` in the editor; the new note's id."""
    editor = open_note_editor(page, paragraph, words)
    page.keyboard.type(body)
    editor.get_by_label("Who sees this").select_option(audience)
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/annotations") and r.request.method == "POST"
    ) as created:
        editor.get_by_role("button", name=SAVE_NOTE).click()
    assert created.value.status == 201
    expect(editor).to_have_count(0)
    note_id = int(created.value.json()["id"].rsplit("/", 1)[1])
    # The page has fetched itself again and focused the new note: nothing left to move the text.
    expect(page.locator(f"#a{note_id}")).to_be_focused()
    return note_id


def _place(page, paragraph: int) -> dict:
    return page.evaluate(
        "n => ({y: scrollY, top: document.getElementById('p' + n).getBoundingClientRect().top})",
        paragraph,
    )


def _scroll_to(page, paragraph: int) -> dict:
    """Put ¶``paragraph`` at the top of the window, once the paragraphs that come into view have
    been laid out at their real size (content-visibility) and the page has settled."""
    for _ in range(2):
        page.evaluate(
            "n => document.getElementById('p' + n)"
            ".scrollIntoView({block: 'start', behavior: 'instant'})",
            paragraph,
        )
        wait_for_scroll_to_settle(page)
    return _place(page, paragraph)


def _assert_place_kept(page, paragraph: int, before: dict) -> None:
    after = _place(page, paragraph)
    assert abs(after["y"] - before["y"]) <= 3, (before, after)
    assert abs(after["top"] - before["top"]) <= 3, (before, after)


# ---- 10. a note, a reply and moderation, live ----


def test_a_seminar_annotates_replies_and_moderates_live(seminar_through_pages):
    s = seminar_through_pages
    for page in (s.a, s.b):
        prompt = page.get_by_role("complementary", name=f"Reading for {GROUP}")
        expect(prompt.locator(".assignment-prompt")).to_have_text(PROMPT)
        first = page.locator(".para-row").first.bounding_box()
        assert prompt.bounding_box()["y"] + prompt.bounding_box()["height"] <= first["y"]

    # B reads further down; A annotates ¶5 for the group, above B's window.
    before = _scroll_to(s.b, 8)
    note_id = _post_note(s.a, 5, WORDS, "A *turning point*.", s.audience)
    expect(s.a.locator(f"#a{note_id}")).to_be_focused()

    note_for_b = s.b.locator(f"#p5 #a{note_id}")
    expect(note_for_b.locator(".note-body em")).to_have_text("turning point", timeout=LIVE_MS)
    expect_marks(s.b, note_id, [WORDS], paragraph=5)
    assert _same_document(s.b)
    _assert_place_kept(s.b, 8, before)

    # B replies (a plain form); A sees the reply arrive in the thread under the note.
    note_for_b.locator("> .note-actions a.reply-link").click()  # the form opens in place
    note_for_b.get_by_label("Your reply").fill("Or a *tactical* pause?")
    note_for_b.get_by_role("button", name="Post reply").click()
    expect(s.b.locator(f"#a{note_id} .thread .reply")).to_contain_text("Or a tactical pause?")
    reply = s.a.locator(f"#a{note_id} .thread .reply")
    expect(reply).to_contain_text("Or a tactical pause?", timeout=LIVE_MS)
    expect(reply.locator("em")).to_have_text("tactical")
    expect(reply).to_contain_text("Ben Student")
    assert _same_document(s.a)

    # B flags the note (its form opens in place too); the instructor's group page lists it.
    # The reply's page has loaded again: its scripts first (a click before them follows the link).
    expect(s.b.locator(".keyboard-mode")).to_be_visible()
    note_for_b = s.b.locator(f"#p5 #a{note_id}")
    note_for_b.locator("> .note-actions a.flag-link").click()
    note_for_b.get_by_label("Why does this need an instructor's attention?").fill("Off topic?")
    note_for_b.get_by_role("button", name="Send flag").click()
    expect(note_for_b.get_by_role("status")).to_contain_text("the instructors will see your flag")
    s.teacher.goto(f"/groups/{s.group_id}")
    expect(s.teacher.locator(".flags li")).to_contain_text("Ben Student: “Off topic?”")

    # The instructor hides A's note: within seconds both students' pages say so. B no longer
    # reads the words; A, the author, still does, with the notice.
    _open_reading(s.b, s.group_id)
    _open_reading(s.a, s.group_id)
    _open_reading(s.teacher, s.group_id)
    own_actions = s.teacher.locator(f"#a{note_id} > .note-actions")  # not the reply's
    own_actions.get_by_role("link", name="Hide").click()  # in place, through the API
    expect(own_actions.get_by_role("link", name="Unhide")).to_be_visible()
    assert _same_document(s.teacher)

    hidden_for_b = s.b.locator(f"#a{note_id}")
    expect(hidden_for_b.locator("> .hidden-note")).to_have_text(
        "Hidden by an instructor.", timeout=LIVE_MS
    )
    expect(hidden_for_b.locator("> .note-body")).to_have_count(0)
    expect(hidden_for_b).not_to_contain_text("turning point")
    hidden_for_a = s.a.locator(f"#a{note_id}")
    expect(hidden_for_a.locator("> .hidden-note")).to_contain_text(
        "Hidden by an instructor", timeout=LIVE_MS
    )
    expect(hidden_for_a.locator("> .note-body em")).to_have_text("turning point")
    assert _same_document(s.a) and _same_document(s.b)


@pytest.mark.parametrize("rendered", ["on screen", "everywhere"])
def test_a_note_that_lengthens_the_page_above_the_reader_does_not_move_what_they_read(
    seminar, rendered
):
    s = seminar
    # ¶1 is one short line: a note under it (B's window narrower than the text and its margin
    # side by side: beside the text a margin fits its paragraph) makes its row taller, above
    # B's window. Chromium would keep B's place by itself (CSS scroll anchoring); Safari has
    # none, so it is off here and the page must keep the place itself.
    s.b.set_viewport_size({"width": 1100, "height": 900})
    s.b.evaluate(
        "for (const e of [document.documentElement, document.body]) e.style.overflowAnchor = 'none'"
    )
    if rendered == "everywhere":  # as a browser without content-visibility lays the page out
        s.b.evaluate(
            "document.styleSheets[0].insertRule("
            "'.para-row { content-visibility: visible !important; }')"
        )
    else:  # ¶1, far above, is not laid out again until B comes back to it
        before = _scroll_to(s.b, 8)
        note_id = _post_note(s.a, 1, "Rolls Royce", "Whose car?", s.audience)
        expect(s.b.locator(f"#p1 #a{note_id}")).to_have_count(1, timeout=LIVE_MS)
        _assert_place_kept(s.b, 8, before)
        _scroll_to(s.b, 1)
        expect(s.b.locator(f"#p1 #a{note_id} .note-body")).to_have_text("Whose car?")
        assert _same_document(s.b)
        return
    before = _scroll_to(s.b, 8)
    height = s.b.locator("#p1").bounding_box()["height"]
    note_id = _post_note(s.a, 1, "Rolls Royce", "Whose car?", s.audience)
    expect(s.b.locator(f"#p1 #a{note_id} .note-body")).to_have_text("Whose car?", timeout=LIVE_MS)
    grown = s.b.locator("#p1").bounding_box()["height"] - height
    assert grown > 50, "the note should lengthen the page above B"
    after = _place(s.b, 8)
    assert abs(after["top"] - before["top"]) <= 3, (before, after)  # ¶8 stays where it was
    assert abs(after["y"] - before["y"] - grown) <= 3, (before, after, grown)
    assert _same_document(s.b)


# ---- 11. reactions ----


def test_reactions_are_counted_and_reach_the_author_live(seminar, page_watch):
    s = seminar
    note_id = _post_note(s.a, 5, WORDS, "Agree?", s.audience)
    note_for_b = s.b.locator(f"#a{note_id}")
    expect(note_for_b).to_be_visible(timeout=LIVE_MS)

    # In the margin Agree and Puzzled are links to the note's page (its buttons work without
    # JavaScript); here they react in place, and a keyboard reader's focus stays on the link.
    # A count shows once there is one.
    for kind, label in (("agree", "Agree"), ("question", "Puzzled")):
        link = s.b.locator(f"#a{note_id} > .note-actions a.reaction-{kind}")
        expect(link).not_to_have_class(re.compile("reaction-mine"))
        expect(link).to_have_text(label)
        if kind == "agree":
            s.b.locator(f"#a{note_id}").get_by_role("link", name=re.compile(f"^{label}")).click()
        else:
            link.focus()
            s.b.keyboard.press("Enter")
        expect(link).to_have_class(re.compile("reaction-mine"))
        expect(link.locator(".count")).to_have_text("1")
        expect(link).to_contain_text("(yours)")
    expect(s.b.locator(f"#a{note_id} > .note-actions a.reaction-question")).to_be_focused()
    assert _same_document(s.b)

    # The author does not react to their own note: they see what others said of it.
    author_view = s.a.locator(f"#a{note_id} > .note-actions")
    expect(author_view.locator(".reactions-readonly")).to_have_text(
        "1 agree · 1 puzzled", timeout=LIVE_MS
    )
    expect(author_view.locator(".reactions")).to_be_hidden()  # in the shared part, not for her
    assert _same_document(s.a)

    # A reaction the server refuses says why beside the note, and nothing changes.
    refusal = "You may not react to that annotation."
    page_watch.allow_console_error(r"status of 403")  # the refusal, logged by Chromium
    s.b.route(
        f"**/api/v1/annotations/{note_id}/reactions/agree",
        lambda route: route.fulfill(status=403, json={"detail": refusal}),
    )
    agree = s.b.locator(f"#a{note_id} > .note-actions a.reaction-agree")
    agree.click()
    expect(s.b.locator(f"#a{note_id} > .note-actions [role=alert]")).to_have_text(refusal)
    expect(agree.locator(".count")).to_have_text("1")
    expect(agree).to_have_class(re.compile("reaction-mine"))
    assert _same_document(s.b)


def test_paragraph_notes_and_discussions_open_their_form_in_place(seminar):
    s = seminar
    row = s.b.locator("#p4")
    expect(row.locator("form")).to_have_count(0)  # links until a reader asks for a form

    row.get_by_role("link", name="Discuss ¶4").click()
    field = row.get_by_label(f"Say something about ¶4 to {GROUP}")
    expect(field).to_be_focused()
    assert _same_document(s.b)  # opened in place, not by loading the page
    field.fill("Is *Rapallo* already here?")
    row.get_by_role("button", name="Post").click()
    discussion = s.b.locator("#p4 details.discussion")
    expect(discussion.locator("summary")).to_have_text("Discussion of ¶4 (1)")
    expect(discussion.locator(".reply em")).to_have_text("Rapallo")
    expect(s.a.locator("#p4 details.discussion .reply")).to_contain_text(
        "Is Rapallo already here?", timeout=LIVE_MS
    )

    _open_reading(s.b, s.group_id)
    row = s.b.locator("#p5")
    row.get_by_role("link", name="Note on ¶5").click()
    row.get_by_label("Your note on paragraph 5").fill("The whole of ¶5.")
    # In the seminar's lens a note is the seminar's unless B chooses otherwise.
    expect(row.get_by_label("Who sees this")).to_have_value(s.audience)
    row.get_by_role("button", name=f"Save to {GROUP}").click()
    note = s.b.locator("#p5 article.note")
    expect(note.locator(".note-body")).to_have_text("The whole of ¶5.")
    expect(s.a.locator("#p5 article.note .note-body")).to_have_text(
        "The whole of ¶5.", timeout=LIVE_MS
    )
    # Its highlight is the whole paragraph.
    assert s.b.locator("#p5 mark.hl").all_text_contents() == [
        s.b.locator("#p5 .para").text_content()
    ]


# ---- 12. a dropped connection misses nothing ----


def test_live_updates_resume_after_a_dropped_connection(seminar, page_watch):
    s = seminar
    page_watch.allow_console_error(r"ERR_FAILED")  # the polls aborted on purpose
    aborted: list[str] = []

    def drop(route):
        aborted.append(route.request.url)
        route.abort()

    pattern = re.compile(r"/texts/[^/]+/events")
    s.b.route(pattern, drop)
    started = time.monotonic()
    note_id = _post_note(
        s.a, 6, "The background of the Soviet rapprochement", "Offline?", s.audience
    )
    deadline = started + 6
    while time.monotonic() < deadline or not aborted:
        assert time.monotonic() < started + 15, "B's page never polled while cut off"
        s.b.wait_for_timeout(200)
    s.b.unroute(pattern, drop)
    expect(s.b.locator(f"#a{note_id}")).to_have_count(0)  # nothing came through meanwhile

    # Polls back off while failing (at most 10 s after two failures); the next one catches up.
    expect(s.b.locator(f"#p6 #a{note_id} .note-body")).to_have_text("Offline?", timeout=15_000)
    expect_marks(s.b, note_id, ["The background of the Soviet rapprochement"], paragraph=6)
    assert _same_document(s.b)


def test_the_author_moves_a_thread_to_another_audience_in_place(seminar):
    s = seminar
    # The thread holds only A's own words: one with others' replies in it may not move (409).
    note_id = _post_note(s.a, 5, WORDS, "Shared, then not.", s.audience)
    note = s.a.locator(f"#a{note_id}")
    note.locator("> .note-actions a.reply-link").click()
    note.get_by_label("Your reply").fill("Seen it.")
    note.get_by_role("button", name="Post reply").click()
    expect(s.a.locator(f"#a{note_id} .thread .reply")).to_contain_text("Seen it.")
    # B reads the note, its highlight and the reply.
    expect(s.b.locator(f"#a{note_id} .thread .reply")).to_contain_text("Seen it.", timeout=LIVE_MS)
    span = note_span(s.b, note_id)
    expect_marks(s.b, note_id, [WORDS], paragraph=5, span=span)

    _open_reading(s.a, s.group_id)
    note = s.a.locator(f"#a{note_id}")
    expect(note.locator(".thread .reply")).to_contain_text("Seen it.")
    note.get_by_role("link", name=f"Who sees this: {GROUP}").click()
    form = note.locator("form[id^=inline-audience]")
    audience = form.get_by_label("Who sees this")
    expect(audience).to_have_value(s.audience)  # where the thread is now
    expect(form).to_contain_text("its 1 reply included")
    assert _same_document(s.a)  # opened in place
    audience.select_option("private")
    form.get_by_label(re.compile("I understand this changes who sees the whole thread")).check()
    form.get_by_role("button", name="Change").click()
    expect(s.a.locator(".flash-success")).to_contain_text("Audience changed for the whole thread.")
    expect(s.a.locator(f"#a{note_id} .audience")).to_have_text("Only me")

    # B's page loses the note, its highlight and the reply in it, live.
    expect(s.b.locator(f"#a{note_id}")).to_have_count(0, timeout=LIVE_MS)
    expect_marks(s.b, note_id, [], span=span)
    expect(s.b.get_by_text("Seen it.")).to_have_count(0)


def test_a_live_update_leaves_unchanged_paragraphs_as_they_are(seminar):
    s = seminar
    # Paragraphs are told apart from their replacements by a property, not in their HTML.
    mark = "ids => ids.forEach(id => { document.getElementById(id).seen = true; })"
    kept = "ids => ids.filter(id => document.getElementById(id).seen === true)"
    s.b.evaluate(mark, ["p5", "p8"])
    note_id = _post_note(s.a, 5, WORDS, "Worth a reply.", s.audience)
    expect(s.b.locator(f"#p5 #a{note_id}")).to_be_visible(timeout=LIVE_MS)
    assert s.b.evaluate(kept, ["p5", "p8"]) == ["p8"]  # only the changed ¶5 was swapped in

    # B opens Reply on the note, but reads on before typing. A note on ¶8 leaves it open.
    s.b.locator(f"#a{note_id} > .note-actions a.reply-link").click()
    expect(s.b.locator(f"#a{note_id}").get_by_label("Your reply")).to_be_focused()
    s.b.evaluate("document.activeElement.blur()")
    s.b.evaluate(mark, ["p5", "p8"])
    other = _post_note(s.a, 8, "No amount of ingenuity", "Elsewhere.", s.audience)
    expect(s.b.locator(f"#p8 #a{other}")).to_be_visible(timeout=LIVE_MS)
    assert s.b.evaluate(kept, ["p5", "p8"]) == ["p5"]
    expect(s.b.locator(f"#a{note_id}").get_by_label("Your reply")).to_be_visible()
    assert _same_document(s.b)


def _post_on_the_whole_text(page, body: str, audience: str) -> None:
    form = page.locator(".text-notes .note-form-toggle")
    form.locator("summary").click()
    form.get_by_label("Your note on the whole text").fill(body)
    form.get_by_label("Who sees this").select_option(audience)
    form.get_by_role("button", name=SAVE_NOTE).click()
    expect(page.locator(".flash-success")).to_have_text("Note saved.")


def test_a_live_update_keeps_the_form_for_a_note_on_the_whole_text_open_and_kept(seminar):
    s = seminar
    form = s.b.locator(".text-notes .note-form-toggle")
    summary = form.locator("summary")
    summary.click()  # B opens it
    expect(summary).to_be_focused()

    # While B is on it, the section is left as it is: open, and focus where it was.
    _post_on_the_whole_text(s.a, "On the whole.", s.audience)
    expect(s.b.locator("#text-notes-link")).to_contain_text("(1)", timeout=LIVE_MS)
    expect(form).to_have_attribute("open", "")
    expect(summary).to_be_focused()

    # B reads on; the next note swaps the section in anew, the form still open.
    s.b.evaluate("document.activeElement.blur()")
    _post_on_the_whole_text(s.a, "And again.", s.audience)
    expect(s.b.locator(".text-notes article.note")).to_have_count(2, timeout=LIVE_MS)
    expect(form).to_have_attribute("open", "")

    # What B then types in the form swapped in is kept like any other.
    form.get_by_label("Your note on the whole text").fill("Mine too")
    s.b.reload()
    drafts = s.b.get_by_role("region", name="Unsaved notes")
    expect(drafts).to_contain_text("Your unsaved note on the whole text")


def test_a_live_update_keeps_a_keyboard_readers_caret(seminar):
    s = seminar
    s.b.locator(".keyboard-mode").click()
    para = s.b.locator("#p5 p.para")
    expect(para).to_have_attribute("contenteditable", "true")
    para.focus()
    s.b.keyboard.press("Home")
    for _ in range(4):
        s.b.keyboard.press("ArrowRight")
    text = para.text_content()
    # Whenever the page changes under B, the caret is already back: a key pressed at that
    # moment (the next task) lands in the paragraph, not on the page's body.
    s.b.evaluate(
        """() => {
          window.caretAtSwap = [];
          const caretIn = () => document.activeElement.matches("#p5 p.para");
          new MutationObserver(() => window.caretAtSwap.push(caretIn())).observe(
            document.querySelector(".reading"), { childList: true, subtree: true }
          );
        }"""
    )

    note_id = _post_note(s.a, 5, WORDS, "While B reads.", s.audience)
    expect(s.b.locator(f"#p5 #a{note_id} .note-body")).to_have_text(
        "While B reads.", timeout=LIVE_MS
    )
    # The row was swapped, and the caret is where B left it, in keyboard selection still.
    para = s.b.locator("#p5 p.para")
    expect(para).to_be_focused()
    expect(para).to_have_attribute("contenteditable", "true")
    for _ in range(9):
        s.b.keyboard.press("Shift+ArrowRight")
    assert s.b.evaluate("getSelection().toString()") == text[4:13]
    caret_at_swap = s.b.evaluate("window.caretAtSwap")
    assert caret_at_swap and all(caret_at_swap)
    assert _same_document(s.b)


# ---- 13. a private note never reaches anyone else ----


def test_a_private_note_never_reaches_another_member(seminar):
    s = seminar
    feed: list = []
    s.b.on("response", lambda r: feed.append(r) if "/events" in r.url else None)

    private_id = _post_note(
        s.a, 7, "the quest for military collaboration", "Mine alone.", "private"
    )
    shared_id = _post_note(s.a, 8, "No amount of ingenuity", "For all of us.", s.audience)

    # The shared note arrives, so B's page has polled past both.
    expect(s.b.locator(f"#a{shared_id} .note-body")).to_have_text("For all of us.", timeout=LIVE_MS)
    # B's page holds everything up to the change log's position after both: the private note
    # is not merely late.
    caught_up(s.b)
    expect(s.b.locator(f"#a{private_id}")).to_have_count(0)
    expect_marks(s.b, private_id, [], span=note_span(s.a, private_id))  # A's, not B's, to read
    expect(s.b.locator(f"#m{private_id}, mark.hl[data-top='{private_id}']")).to_have_count(0)
    expect(s.b.locator("body")).not_to_contain_text("Mine alone.")
    answers = [r.json() for r in feed if r.ok]
    told = [e["annotation"] for answer in answers for e in answer["events"]]
    assert shared_id in told
    assert private_id not in told
    brought = "".join(html for answer in answers for html in answer.get("parts", {}).values())
    assert "For all of us." in brought  # the parts came with the feed ...
    assert "Mine alone." not in brought and f'id="a{private_id}"' not in brought  # ... not A's

    # B's lenses cannot show it either.
    s.b.goto(f"{READ_PATH}?lens=public")
    expect(s.b.locator("body")).not_to_contain_text("Mine alone.")
    # A still has it, under "My notes".
    s.a.get_by_text("Filter", exact=True).click()  # the lens and filters, folded above the text
    s.a.locator("#lens").select_option("mine")
    s.a.get_by_role("button", name="Show").click()
    expect(s.a.locator(f"#a{private_id} .note-body")).to_have_text("Mine alone.")

    # B's page with the group's notes has no accessibility violations.
    _open_reading(s.b, s.group_id)
    expect(s.b.locator(f"#a{shared_id}")).to_be_visible()
    s.b.evaluate("document.fonts.ready")
    results = AXE.run(s.b)
    assert results.violations_count == 0, results.generate_report()


# ---- a live update leaves a reader's selection alone ----


def test_a_live_update_keeps_the_words_a_reader_is_selecting(seminar):
    s = seminar
    drag_select(s.a, 4, "consolidation of Soviet relations")
    toolbar = s.a.locator(".annotate-toolbar")
    expect(toolbar).to_be_visible()

    # Meanwhile B writes for the group; A's page takes it in while A's words are still selected.
    note_id = _post_note(
        s.b, 6, "The background of the Soviet rapprochement", "Mid-way.", s.audience
    )
    expect(s.a.locator(f"#a{note_id} .note-body")).to_have_text("Mid-way.", timeout=LIVE_MS)
    assert s.a.evaluate("getSelection().toString()") == "consolidation of Soviet relations"
    s.a.wait_for_timeout(500)  # the toolbar re-checks the selection 400 ms after a change
    expect(toolbar).to_be_visible()
    toolbar.locator("button[data-action=annotate]").click()
    editor = s.a.locator("#p4 .note-editor")
    expect(editor.locator(".note-quote")).to_have_text("consolidation of Soviet relations")
    s.a.keyboard.type("Still selected.")
    editor.get_by_label("Who sees this").select_option(s.audience)
    editor.get_by_role("button", name=SAVE_NOTE).click()
    note = s.a.locator("#p4 article.note")
    expect(note).to_be_focused()
    expect_marks(
        s.a, int(note.get_attribute("data-annotation")), ["consolidation of Soviet relations"], 4
    )
    # B's note was swapped in around the selection, not lost.
    expect(s.a.locator(f"#a{note_id} .note-body")).to_have_text("Mid-way.")

    # A paragraph left alone for a selection is brought up to date once the selection ends.
    told: list[int] = []

    def listen(response) -> None:
        if "/events" in response.url and response.ok:
            told.extend(e["annotation"] for e in response.json()["events"])

    s.a.on("response", listen)
    drag_select(s.a, 6, "was economic: desire to facilitate")
    second = _post_note(s.b, 6, "mutually profitable trade", "While you select.", s.audience)
    caught_up(s.a)  # told of B's second note, and done with the refresh that started
    assert second in told
    assert s.a.evaluate("getSelection().toString()") == "was economic: desire to facilitate"
    expect(s.a.locator(f"#a{second}")).to_have_count(0)
    s.a.get_by_role("heading", level=1).click()  # the selection ends
    expect(s.a.locator(f"#p6 #a{second} .note-body")).to_have_text("While you select.")


# ---- found by these tests; the lens is the server's (app/services/texts.py) ----


def test_a_highlight_made_in_a_group_lens_shows_where_it_was_made(page, session, seeded):
    from app.services import groups
    from app.services.access import viewer_for

    student = make_user(session, "ann@example.org", "Ann Student")
    group = groups.create(session, viewer_for(session, student), GROUP)
    session.commit()
    groups.add_reading(session, viewer_for(session, student), group.id, seeded.slug, None, PROMPT)
    session.commit()
    sign_in(page, "ann@example.org")
    _open_reading(page, group.id)
    drag_select(page, 4, "consolidation of Soviet relations")
    page.locator(".annotate-toolbar button[data-color=green]").click()
    expect(page.locator(".annotate-toolbar")).to_be_hidden()
    expect(page.locator("#p4 mark.hl-green")).to_have_text(
        "consolidation of Soviet relations", timeout=3000
    )


# ---- 14. parts shared by the seminar, over time ----


def test_a_note_posted_live_in_a_full_paragraph_is_marked_new_and_announced(seminar):
    s = seminar
    status = s.b.locator("#live-status")
    for n in range(3):  # the margin shows three notes a paragraph
        _post_note(s.a, 5, WORDS, f"Earlier thought {n}.", s.audience)
    expect(s.b.locator("#p5 article.note")).to_have_count(3, timeout=LIVE_MS)

    fourth = _post_note(s.a, 5, WORDS, "The fourth thought.", s.audience)
    more = s.b.locator("#p5 .more-notes-link")
    expect(more).to_contain_text("Show 1 more note on ¶5 (1 new)", timeout=LIVE_MS)
    expect(status).to_have_text("1 new note or reply.")
    more.click()
    card = s.b.locator(f"#a{fourth}")
    expect(card.locator(".note-body")).to_have_text("The fourth thought.")
    expect(card).to_have_class(re.compile(r"\bnote-new\b"))
    # Its author's own page: the note is there, not announced to her as news.
    expect(s.a.locator(f"#a{fourth}")).not_to_have_class(re.compile(r"\bnote-new\b"))
    expect(s.a.locator("#live-status")).not_to_contain_text("new")


def test_a_private_note_stays_out_of_its_paragraph_as_the_seminar_shares_it(seminar):
    s = seminar
    private_id = _post_note(
        s.a, 7, "the quest for military collaboration", "Mine alone.", "private"
    )
    # The instructor writes in the same paragraph: B's copy of ¶7 is fetched anew, the
    # seminar's copy; A's is hers, with her private note and the instructor's.
    shared_id = _post_note(
        s.teacher, 7, "the quest for military collaboration", "For the seminar.", s.audience
    )
    expect(s.b.locator(f"#a{shared_id} .note-body")).to_have_text(
        "For the seminar.", timeout=LIVE_MS
    )
    expect(s.a.locator(f"#a{shared_id} .note-body")).to_have_text(
        "For the seminar.", timeout=LIVE_MS
    )
    caught_up(s.b)
    expect(s.b.locator(f"#a{private_id}")).to_have_count(0)
    expect(s.b.locator("#p7")).not_to_contain_text("Mine alone.")
    expect(s.a.locator(f"#a{private_id} .note-body")).to_have_text("Mine alone.")
    # B's own controls are on no one else's note; A's are on hers.
    expect(s.b.locator(f"#a{shared_id}").get_by_role("link", name="Edit")).to_be_hidden()
    expect(s.teacher.locator(f"#a{shared_id}").get_by_role("link", name="Edit")).to_be_visible()


# ---- 15. where a note goes: the seminar's lens is where the seminar writes ----


def test_in_the_groups_lens_notes_and_highlights_go_to_the_group(seminar):
    s = seminar
    editor = open_note_editor(s.a, 6, "The background of the Soviet rapprochement")
    save = editor.get_by_role("button", name=SAVE_NOTE)
    expect(editor.get_by_label("Who sees this")).to_have_value(s.audience)
    expect(save).to_have_text(f"Save to {GROUP}")
    editor.locator("textarea").fill("For the class.")
    with s.a.expect_response(
        lambda r: r.url.endswith("/api/v1/annotations") and r.request.method == "POST"
    ) as created:
        save.click()
    note_id = int(created.value.json()["id"].rsplit("/", 1)[1])
    # Nobody chose the audience, and the instructor reads it.
    expect(s.teacher.locator(f"#a{note_id} .note-body")).to_have_text(
        "For the class.", timeout=LIVE_MS
    )

    # A quick highlight goes to the group the same way, and says so.
    drag_select(s.b, 8, "No amount of ingenuity")
    s.b.locator(".annotate-toolbar button[data-color=green]").click()
    expect(s.teacher.locator("#p8 mark.hl-green")).to_have_text(
        "No amount of ingenuity", timeout=LIVE_MS
    )
    expect(s.b.get_by_role("status").filter(has_text="Highlighted")).to_have_text(
        f"Highlighted in green, for {GROUP}."
    )

    # The button follows the choice.
    editor = open_note_editor(s.a, 8, "No amount of ingenuity")
    who = editor.get_by_label("Who sees this")
    save = editor.get_by_role("button", name=SAVE_NOTE)
    who.select_option("private")
    expect(save).to_have_text("Save for me only")
    who.select_option("public")
    expect(save).to_have_text("Save publicly")


def test_a_private_note_among_the_seminars_looks_private_in_words_and_lines(seminar):
    s = seminar
    private_id = _post_note(s.a, 7, "the quest for military collaboration", "Mine.", "private")
    label = s.a.locator(f"#a{private_id} .audience-private")
    expect(label).to_have_text("Only me")
    expect(label.locator("svg.icon-lock")).to_be_visible()
    mark = s.a.locator(f"#p7 mark.hl-private[data-top='{private_id}']")
    assert mark.evaluate("m => getComputedStyle(m).textDecorationStyle") == "dashed"
    # The page remembers the reader's choice for their next note, until it is loaded again.
    editor = open_note_editor(s.a, 8, "No amount of ingenuity")
    expect(editor.get_by_role("button", name=SAVE_NOTE)).to_have_text("Save for me only")


def test_a_live_update_asked_before_the_reader_opened_a_list_does_not_close_it(seminar):
    """Found by the suite: parts rendered for the page's query before the reader opened ¶5's
    whole list (?expand=5) came back after it and put the short list back."""
    s = seminar
    for n in range(4):  # one more than the margin shows
        _post_note(s.a, 5, WORDS, f"Earlier thought {n}.", s.audience)
    more = s.b.locator("#p5 .more-notes-link")
    expect(more).to_be_visible(timeout=LIVE_MS)
    caught_up(s.b)

    held: list = []

    def is_feed(url: str) -> bool:
        return "/api/" not in url and "/events?" in url

    released: list[bool] = []

    def hold(route) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    s.b.route(is_feed, hold)  # B's next poll waits, asked with the short list's query
    fifth = _post_note(s.a, 5, WORDS, "The fifth thought.", s.audience)
    deadline = time.monotonic() + LIVE_MS / 1000
    while not held:
        assert time.monotonic() < deadline, "B's page did not poll"
        s.b.wait_for_timeout(100)
    more.click()  # the whole list, from the server
    expect(s.b.locator("#p5 article.note")).to_have_count(5)
    released.append(True)
    for route in held:
        route.continue_()  # the answer for the short list arrives now
    caught_up(s.b)
    expect(s.b.locator("#p5 article.note")).to_have_count(5)
    expect(s.b.locator(f"#a{fifth} .note-body")).to_have_text("The fifth thought.")
