"""Browser fixtures: the real app served over HTTP, driven by Debian's Chromium through Playwright.

``live_server`` serves the test app (real migrated database, Carr text seeded) from a thread.
``new_page(**context_options)`` opens a page in a fresh browser context; every page it opens is
watched, and the test fails if the page logs a console error, throws an uncaught error, or makes
a request to any origin but the live server.

Chromium is Debian's ``/usr/bin/chromium`` (Playwright never downloads a browser here). Without it
the browser tests are skipped, unless ``SCHOLIA_REQUIRE_BROWSER=1`` (set by CI) makes that a
failure, so a CI run can never pass by quietly skipping them.

Playwright's sync API marks its asyncio loop as the thread's running loop from its start until it
stops. Were it kept for the whole pytest session, every test after the browser tests (in this
process or, under xdist, in this worker) would find a running loop: ``asyncio.run()`` would refuse
to start and another ``sync_playwright()`` would raise. So Playwright and the browser are scoped
to this package: one browser for all browser tests, stopped before any other test runs.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

from bench.browser import CHROMIUM, CHROMIUM_ARGS

TIMEOUT_MS = 10_000

TITLE = "Rapprochement; how the Bolsheviks came to love capitalists"
READ_PATH = "/texts/carr-rapprochement"
# A note form's Save button, which names where the note goes ("Save to HIST 210").
SAVE_NOTE = re.compile(r"^Save (for me only|publicly|to .+)$")


# Resolves once the page has not scrolled for 150 ms: the smooth scroll to a #fragment has ended.
_SCROLL_SETTLED = """() => new Promise(resolve => {
  let last = null;
  const check = () => {
    const now = scrollX + "," + scrollY;
    if (now === last) return resolve(now);
    last = now;
    setTimeout(check, 150);
  };
  check();
})"""


def wait_for_scroll_to_settle(page) -> None:
    page.evaluate(_SCROLL_SETTLED)


def _required(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in {"", "0", "false", "no"}


@pytest.fixture(scope="package")
def playwright():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (install Debian's chromium package)"
        if _required("SCHOLIA_REQUIRE_BROWSER"):
            pytest.fail(f"SCHOLIA_REQUIRE_BROWSER is set but {reason}")
        pytest.skip(f"browser tests need Chromium: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # stopped cleanly: the tests after these find no event loop running
    else:
        pytest.fail("Playwright left its event loop marked as running in this thread")


@pytest.fixture(scope="package")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _closed_before_sending(app):
    """The app with each response body read into memory, its iterable closed, before sending.

    Werkzeug's server closes the response iterable in a ``finally`` that first drains the socket;
    when the browser resets the connection just then (a test closing its context while the
    favicon or a font is in flight) the drain raises and the close is skipped, so a static file
    stays open: a ResourceWarning, which ``filterwarnings = error`` turns into a flaky failure.
    """

    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()

    return wsgi


class _Server:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, _closed_before_sending(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="live-server", daemon=True
        )

    def __enter__(self) -> str:
        self.thread.start()
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


@pytest.fixture
def live_server(app, seeded) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, the Carr text in its library; yields the base URL."""
    with _Server(app) as url:
        yield url


@dataclass
class PageWatch:
    """What went wrong in the pages of one test: console errors, page errors, foreign requests."""

    origin: str
    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow_console_error(self, pattern: str) -> None:
        """Tolerate console errors matching ``pattern``: Chromium logs one for every response
        with a 4xx status, which is what a test of a rejected form expects to get."""
        self.allowed.append(re.compile(pattern))

    def watch(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("request", self._on_request)

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        text = message.text
        if any(p.search(text) for p in self.allowed):
            return
        where = message.location.get("url", "")
        self.problems.append(f"console error: {text} ({where})")

    def _on_request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in {"data", "about"}:
            return  # no network involved
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.problems.append(f"request to another origin: {request.method} {request.url}")


@pytest.fixture
def page_watch(live_server) -> PageWatch:
    return PageWatch(origin=live_server)


# Where a failed test leaves a picture of each page it had open (git ignores test-results/).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Tell the test's fixtures, as they are torn down, whether the test itself failed."""
    report = yield
    if report.when == "call":
        item.failed_in_call = report.failed
    return report


def _screenshot(request, contexts) -> None:
    """Each open page of a failed test, whole, named after the test."""
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for n, page in enumerate(p for context in contexts for p in context.pages):
        path = SCREENSHOTS / f"{name}-{n}.png"
        try:
            page.screenshot(path=path, full_page=True, timeout=5_000)
        except PlaywrightError as error:  # a picture must never hide the failure
            print(f"no screenshot of page {n}: {error}")
        else:
            print(f"screenshot: {path}")


@pytest.fixture
def new_page(request, browser, live_server, page_watch) -> Iterator[Callable[..., object]]:
    """Open pages in fresh browser contexts: ``new_page(color_scheme="dark")`` and so on.

    ``base_url`` is the live server, so tests ``goto("/texts/...")``. Requests to any other
    origin are aborted (and reported), so a page cannot reach the network behind our back.
    """
    if request.node.get_closest_marker("browser") is None:
        pytest.fail("browser tests must be marked @pytest.mark.browser")
    contexts = []

    def open_page(**options):
        options.setdefault("base_url", live_server)
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        context.route(
            re.compile(r"^(?!" + re.escape(live_server) + r"/).*"), lambda route: route.abort()
        )
        contexts.append(context)
        page = context.new_page()
        page_watch.watch(page)
        return page

    yield open_page
    if getattr(request.node, "failed_in_call", False):
        _screenshot(request, contexts)
    for context in contexts:
        context.close()
    if page_watch.problems:
        pytest.fail("the browser reported problems:\n" + "\n".join(page_watch.problems))


@pytest.fixture
def page(new_page):
    """A page at a desktop size, light colour scheme."""
    return new_page(viewport={"width": 1280, "height": 900}, color_scheme="light")


# ---- shared by the annotating and seminar tests ----


def sign_in(page, email: str, password: str | None = None) -> None:
    """Signed in as the sign-in form does it, for a test whose subject is something else: the
    form's own requests, sent from the page's context (which keeps the session cookie) without
    drawing the pages, in a tenth of the time. The page itself is left where it was."""
    from tests.factories import DEFAULT_PASSWORD

    form = page.request.get("/auth/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text())
    assert token, "no CSRF token on the sign-in page"
    answer = page.request.post(
        "/auth/login",
        form={"csrf_token": token[1], "email": email, "password": password or DEFAULT_PASSWORD},
    )
    assert answer.ok and "Sign out" in answer.text(), f"could not sign in as {email}"


def sign_in_through_the_form(page, email: str, password: str | None = None) -> None:
    """Sign in as a reader does, on the page: the sign-in form, then the library."""
    from playwright.sync_api import expect

    from tests.factories import DEFAULT_PASSWORD

    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password or DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()


# Viewport points just inside the first character of ``startPhrase`` (in paragraph ``startPara``)
# and the last character of ``endPhrase`` (in ``endPara``): where a reader presses and releases
# the mouse button to select exactly those words. Text nodes are walked, so words already split
# by <mark>s are found too. The start paragraph is scrolled to the middle of the window first.
_PHRASE_POINTS = """async ([startPara, startPhrase, endPara, endPhrase]) => {
  const para = (n) => document.querySelector(`#p${n} p.para`);
  function charRect(p, phrase, last) {
    const index = p.textContent.indexOf(phrase);
    const number = p.closest(".para-row").dataset.paragraph;
    if (index < 0) throw new Error(`"${phrase}" is not in ¶${number}`);
    let at = last ? index + phrase.length - 1 : index;
    const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (at < node.length) {
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + 1);
        const rects = range.getClientRects();
        return rects[rects.length - 1];
      }
      at -= node.length;
    }
    throw new Error("ran out of text");
  }
  // Paragraphs off screen are laid out when they come into view (content-visibility): let the
  // page settle at its real size, as a reader's eye would, before measuring where words are.
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  let top = null;
  for (let i = 0; i < 20; i++) {
    para(startPara).scrollIntoView({ block: "center", behavior: "instant" });
    await frame();
    await frame();
    const now = para(startPara).getBoundingClientRect().top;
    if (now === top) break;
    top = now;
  }
  const first = charRect(para(startPara), startPhrase, false);
  const last = charRect(para(endPara), endPhrase, true);
  return {
    start: [first.left + 1, first.top + first.height / 2],
    end: [last.right - 1, last.top + last.height / 2],
  };
}"""


def drag_select(
    page,
    paragraph: int,
    phrase: str,
    end_paragraph: int | None = None,
    end_phrase: str | None = None,
) -> None:
    """Select ``phrase`` in ¶``paragraph`` (or from its start to the end of ``end_phrase`` in
    ¶``end_paragraph``) with a real mouse drag: press, move, release."""
    points = page.evaluate(
        _PHRASE_POINTS, [paragraph, phrase, end_paragraph or paragraph, end_phrase or phrase]
    )
    page.mouse.move(*points["start"])
    page.mouse.down()
    page.mouse.move(*points["end"], steps=8)
    page.mouse.up()


def open_note_editor(page, paragraph: int, phrase: str, end_paragraph=None, end_phrase=None):
    """Drag over the words, press Annotate: the note editor in ¶``paragraph``'s margin."""
    from playwright.sync_api import expect

    annotate = page.locator(".annotate-toolbar button[data-action=annotate]")
    # A live update landing between measuring the words and dragging may scroll the page (it
    # keeps the reader's place): the drag then misses, as a person's would; they drag again.
    for attempt in range(3):
        drag_select(page, paragraph, phrase, end_paragraph, end_phrase)
        try:
            expect(annotate).to_be_visible(timeout=3000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    annotate.click()
    editor = page.locator(f"#p{paragraph} .margin .note-editor")
    expect(editor).to_be_visible()
    expect(editor.locator("textarea")).to_be_focused()
    return editor


# ---- which marks cover a note ----
#
# A mark names only the innermost annotation covering it (data-top) and its own offset in the
# text's canonical content (data-start); the server cuts marks at every annotation's edges, so the
# marks covering note X are exactly those whose data-start lies in X's [start, end).


def note_span(page, note_id: int) -> tuple[int, int]:
    """Note ``note_id``'s [start, end) in the text's canonical content, as stored: its
    TextPositionSelector, asked of the API as the page's reader (who must be able to see it)."""
    response = page.request.get(f"/api/v1/annotations/{note_id}")
    assert response.ok, f"GET /api/v1/annotations/{note_id}: {response.status}"
    selectors = response.json()["target"]["selector"]
    (position,) = (s for s in selectors if s["type"] == "TextPositionSelector")
    return position["start"], position["end"]


# The text of each mark in ``scope`` whose offset lies in [start, end), in document order. Every
# mark looked at must carry its true offset (its paragraph's, plus the characters before it): the
# offsets are what the page itself goes by, so a wrong one is reported, not silently matched.
_MARKS_IN_SPAN = """([scope, start, end]) => {
  const marks = [...document.querySelectorAll(`${scope} mark.hl`)];
  const covering = [];
  for (const mark of marks) {
    const para = mark.closest("p.para");
    if (!para) throw new Error(`a mark outside any paragraph: ${mark.outerHTML}`);
    const before = document.createRange();
    before.setStart(para, 0);
    before.setEnd(mark, 0);
    const at = Number(para.dataset.start) + [...before.toString()].length;
    if (Number(mark.dataset.start) !== at) {
      const says = mark.dataset.start;
      throw new Error(`mark "${mark.textContent}" says data-start=${says}, is at ${at}`);
    }
    if (at >= start && at < end) covering.push(mark.textContent);
  }
  return covering;
}"""

# Resolves once the marks covering [start, end) in ``scope`` have exactly the texts wanted.
_MARKS_BECOME = (
    "([scope, start, end, wanted]) => JSON.stringify(("
    + _MARKS_IN_SPAN
    + ")([scope, start, end])) === JSON.stringify(wanted)"
)


def _scope(paragraph: int | None) -> str:
    return "" if paragraph is None else f"#p{paragraph}"


def marks_of(
    page, note_id: int, paragraph: int | None = None, span: tuple[int, int] | None = None
) -> list[str]:
    """The texts of the marks covering note ``note_id`` (in ¶``paragraph`` only, if given), in
    order. ``span`` is the note's [start, end) when known; else the API is asked for it."""
    start, end = span or note_span(page, note_id)
    return page.evaluate(_MARKS_IN_SPAN, [_scope(paragraph), start, end])


def expect_marks(
    page,
    note_id: int,
    texts: list[str],
    paragraph: int | None = None,
    span: tuple[int, int] | None = None,
    timeout: float = TIMEOUT_MS,
) -> None:
    """Wait until the marks covering note ``note_id`` (in ¶``paragraph``, if given) have exactly
    ``texts``: ``[]`` once its highlight is gone. Live updates swap paragraphs: this waits for
    them, as ``expect`` does, and fails with the marks last seen if they never come right."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    start, end = span or note_span(page, note_id)
    scope = _scope(paragraph)
    try:
        page.wait_for_function(_MARKS_BECOME, arg=[scope, start, end, texts], timeout=timeout)
    except PlaywrightTimeoutError:
        seen = page.evaluate(_MARKS_IN_SPAN, [scope, start, end])
        where = f" in ¶{paragraph}" if paragraph is not None else ""
        raise AssertionError(
            f"marks covering note {note_id} [{start}, {end}){where}: expected {texts!r}, "
            f"still {seen!r} after {timeout} ms"
        ) from None


# ---- a seminar's notes, for the pages that show many kinds of them ----


@dataclass
class SeminarNotes:
    """Ida teaches Ann and Ben the Carr text. On ¶5: Ann's note to the group (tagged, coloured,
    agreed with by Ben), Ben's reply and Ida's answer to it, a note of Ben's, Ann's private note
    and her highlight; on the whole text, a note of Ben's. Everyone signs in with ``sign_in``."""

    group_id: int
    note_id: int  # Ann's note to the group, with its replies

    TEACHER = "ida@example.org"
    MEMBER = "ann@example.org"


@pytest.fixture
def seminar_notes(session, seeded) -> SeminarNotes:
    from app.models import HighlightColor, ReactionKind
    from app.services import discussion, groups
    from app.services.access import viewer_for
    from tests.factories import make_annotation, make_group, make_user

    ida = make_user(session, SeminarNotes.TEACHER, "Ida Instructor")
    ann = make_user(session, SeminarNotes.MEMBER, "Ann Student")
    ben = make_user(session, "ben@example.org", "Ben Student")
    group = make_group(session, ida, ann, ben, name="HIST 210")
    groups.add_reading(session, viewer_for(session, ida), group.id, seeded.slug, None, "Read.")
    note = make_annotation(
        session,
        ann,
        seeded,
        "rightly hailed as a break-through",
        body="The *turning point*.",
        tags=("treaty",),
        color=HighlightColor.GREEN,
        group=group,
    )
    reply = discussion.reply(session, viewer_for(session, ben), note.id, "Is it, though?")
    discussion.reply(session, viewer_for(session, ida), reply.id, "Look at ¶6.")
    discussion.react(session, viewer_for(session, ben), note.id, ReactionKind.AGREE, True)
    session.commit()
    make_annotation(session, ben, seeded, "exchange official trade", body="Why?", group=group)
    make_annotation(session, ann, seeded, "most important clause", body="Only for me.")
    make_annotation(session, ann, seeded, "refrain from action", color=HighlightColor.YELLOW)
    make_annotation(session, ben, seeded, None, body="On the whole text.", group=group)
    return SeminarNotes(group.id, note.id)
