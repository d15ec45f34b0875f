"""Hostile input rendered in real Chromium: XSS payloads from a public list and unicode edge
cases, as note bodies, replies, tags, display names, group names, text titles and imported texts.

No script may run (dialogs and console are hooked), no request may leave for another origin
(the page watch fails the test), the layout may not break, and anchoring stays exact around
emoji, combining marks, right-to-left text and zero-width characters.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.models import Visibility
from app.services import discussion, groups, importer
from app.services.access import viewer_for
from tests import factories
from tests.browser.conftest import sign_in

PAYLOADS = [
    line
    for line in (Path(__file__).parents[1] / "data" / "xss_payloads.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line and not line.startswith("# ")
]
UNICODE = {
    "rtl": "قال لينين إن «الاقتصاد السياسي» هو السياسة المركزة. והמהפכה נמשכה.",
    "combining": "Cafe\u0301 Pushkin, Zo\u0308llner and the Ba\u0301ltic states",
    "emoji": "Trade 👩‍👩‍👧‍👦 and 🇬🇧 flags, then peace 🕊️ at Rapallo",
    "zero width": "zero\u200bwidth\u200cjoin\u200dand\u2060word\ufeffbreaks",
    "long word": "Pneumonoultramicroscopicsilicovolcanoconiosis" * 30,
}
PAGES = ["/", "/texts/hostile", "/notes", "/inbox"]
# How far the page scrolls sideways, and the innermost elements that stick out.
WIDEST = """() => {
  const root = document.scrollingElement, limit = root.clientWidth;
  const culprits = [...document.body.querySelectorAll("*")]
    .filter((e) => e.getBoundingClientRect().right > limit + 1 && !e.querySelector("*"))
    .slice(0, 5).map((e) => `${e.tagName}.${e.className}: ${e.textContent.slice(0, 40)}`);
  return { by: root.scrollWidth - limit, culprits };
}"""


@pytest.fixture
def hostile(app, session, tmp_path):
    """Everything a hostile (or just unusual) reader can type, stored through the services."""
    # Each reader writes 36 or 37 notes and replies here within a second, past the per-minute
    # write quota (30): the tests' own highlight would be refused (429). This app only, so off.
    app.config["WRITES_PER_MINUTE"] = 0
    title = "<script>alert('title')</script> ‮evil‬ 🕊️"
    source = tmp_path / "hostile.md"
    body = "\n\n".join([*UNICODE.values(), *(p.replace("\n", " ") for p in PAYLOADS[:10])])
    source.write_text(f"---\nauthor: <img src=x onerror=alert(1)>\n---\n# {title}\n\n{body}\n")
    text = importer.import_file(session, source).text
    session.commit()
    # Names with text-direction controls are refused (tests/functional/test_auth.py): right-to-
    # left letters beside left-to-right ones are the most a name can do to the text around it.
    names = ["<svg/onload=alert('name')>", "Ada وكيل", "Z\u0351\u0352a\u0353lgo 𝔘𝔫𝔦"]
    readers = [
        factories.make_user(session, f"hostile{n}@example.org", name)
        for n, name in enumerate(names)
    ]
    owner = viewer_for(session, readers[0])
    group = groups.create(session, owner, "<iframe src=javascript:alert(1)>", PAYLOADS[3])
    session.commit()
    for reader in readers[1:]:
        groups.join(session, viewer_for(session, reader), group.invite_code)
        session.commit()
    quotes = [text.current_revision.paragraphs[i].body[:12] for i in range(5)]
    for n, payload in enumerate(PAYLOADS):
        note = factories.make_annotation(
            session,
            readers[n % 3],
            text,
            quotes[n % 5],
            body=f"{payload} @{names[(n + 1) % 3]}",
            tags=(payload[:40], "ünïcödé"),
            group=group,
            visibility=Visibility.GROUP,
        )
        discussion.reply(session, viewer_for(session, readers[(n + 1) % 3]), note.id, payload)
        session.commit()
    return {"text": text, "readers": readers, "group": group}


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 360])
def test_no_payload_runs_or_reaches_out_and_nothing_breaks_the_layout(new_page, hostile, width):
    page = new_page(viewport={"width": width, "height": 800})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "hostile1@example.org")
    group = hostile["group"]
    for path in [*PAGES, f"/groups/{group.id}", f"/texts/hostile?lens=group-{group.id}"]:
        # "load": after every script (modules run before it); not "networkidle", which a
        # reading page's live polls may never leave long enough.
        page.goto(path, wait_until="load")
        assert not dialogs, f"{path}: a payload ran: {dialogs}"
        overflow = page.evaluate(WIDEST)
        assert overflow["by"] <= 1, f"{path} scrolls sideways at {width}px: {overflow}"
        # Payload text is shown as text: it reaches the page escaped, never as elements.
        assert page.locator("script:not([src])").count() == 0
        assert page.locator("iframe, object, embed, svg[onload], img[onerror]").count() == 0
    # A note shows, from its words (beside a short paragraph the margin may have folded it).
    mark = page.locator("mark.hl").first
    mark.click()
    expect(page.locator(f"#a{mark.get_attribute('data-top')}")).to_be_visible()


@pytest.mark.browser
@pytest.mark.parametrize("key", list(UNICODE))
def test_anchoring_is_exact_around_unicode(new_page, hostile, key):
    """Select words just after the tricky characters with the page's own tools: the stored quote
    and the highlight are exactly those words."""
    page = new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, "hostile0@example.org")
    page.goto("/texts/hostile?lens=mine")
    page.wait_for_selector(".annotate-toolbar", state="attached")  # the tools load after the page
    paragraph = UNICODE[key]
    number = list(UNICODE).index(key) + 1
    words = paragraph[len(paragraph) // 2 : len(paragraph) // 2 + 9]
    start = len(paragraph) // 2
    page.evaluate(
        """([number, start, length]) => {
          const para = document.querySelector(`#p${number} .para`);
          // Walk text nodes counting code points, as the server does.
          const walker = document.createTreeWalker(para, NodeFilter.SHOW_TEXT);
          const at = (target) => {
            let seen = 0;
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              const points = Array.from(node.data);
              if (seen + points.length >= target) {
                return [node, points.slice(0, target - seen).join("").length];
              }
              seen += points.length;
            }
          };
          const [startNode, startOffset] = at(start);
          walker.currentNode = para;
          const [endNode, endOffset] = at(start + length);
          const range = document.createRange();
          range.setStart(startNode, startOffset);
          range.setEnd(endNode, endOffset);
          getSelection().removeAllRanges();
          getSelection().addRange(range);
          document.dispatchEvent(new MouseEvent("mouseup", { bubbles: true }));
        }""",
        [number, start, len(words)],
    )
    page.locator(".annotate-toolbar button[data-color=green]").click()
    mark = page.locator(f"#p{number} mark.hl-green")
    expect(mark).to_have_count(1)
    assert mark.text_content() == words
    listing = page.request.get("/api/v1/annotations?text=hostile").json()
    quotes = [
        s["exact"]
        for item in listing["first"]["items"]
        if item.get("scholia:color") == "green"
        for s in item["target"]["selector"]
        if s["type"] == "TextQuoteSelector"
    ]
    assert quotes == [words]
