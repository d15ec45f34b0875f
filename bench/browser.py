"""Headless Chromium loading a page: when is everything painted, how long is the longest task.

Run by bench/page.py in a process of its own, so that a page which hangs the browser's main thread
can be stopped from outside at once (a blocked page does not honour Playwright's timeouts):

    .venv/bin/python -m bench.browser BASE_URL PATH FLOOR_PATH SESSION_COOKIE RUNS

Prints one JSON object per line: ``{"start": n}`` when load n begins, ``{"alive": ms}`` each time
the page answers (its main thread is free), ``{"load": {...}}`` with a load's figures. Loads
take turns (``"kind"``): the page as it is (paragraphs off screen laid out when they come near),
the page with every paragraph laid out at once ("whole"), and FLOOR_PATH ("floor"), a page of a
few lines with the same stylesheet and fonts: what any page costs this browser on this machine
at this minute, as hello world is for throughput; then the page and the floor again, each
reached from FLOOR_PATH in the same tab, as a reader arrives from the library. RUNS of each.
The browser is Debian's /usr/bin/chromium, never one Playwright downloads.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

# Debian's Chromium and how it is started, here and in the browser tests (tests/browser).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # as root Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Runs before the page's own scripts: records long tasks, and the moment everything is painted:
# the whole document parsed (every <mark> and note is in the DOM), the fonts ready, then the
# frame after next has begun, so the frame showing them has been produced.
PROBE = """
window.__bench = { longtasks: [] };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__bench.longtasks.push(e.duration);
}).observe({ type: "longtask", buffered: true });
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__bench[e.name] = e.startTime;
}).observe({ type: "paint", buffered: true });
document.addEventListener("DOMContentLoaded", () => {
  const b = window.__bench;
  b.dcl = performance.now();
  b.marks = document.querySelectorAll("mark").length;
  b.notes = document.querySelectorAll("article.note").length;
  document.fonts.ready.then(() =>
    requestAnimationFrame(() => requestAnimationFrame(() => { b.painted = performance.now(); }))
  );
});
"""

# The reading page lays out a paragraph when it comes near the screen (content-visibility:
# auto). For the figure of a page laid out whole, as a browser without it would, each other
# load overrides that before the page's own stylesheet arrives.
LAY_OUT_EVERYTHING = """
const everything = new CSSStyleSheet();
everything.replaceSync(".para-row { content-visibility: visible !important; }");
document.adoptedStyleSheets = [everything];
"""

KINDS = ("as is", "whole", "floor", "as is, from the library", "floor, from the library")
# A reader mostly arrives from another of Scholia's pages, in the same tab: the browser process
# for the site is running and the stylesheet, scripts and fonts are in its cache (their URLs are
# versioned, so they are not asked for again). The first three kinds open a new tab each time.
FROM_THE_LIBRARY = ", from the library"

# Answers at once whenever the main thread is free: the page's clock, and whether it painted.
HEARTBEAT = "() => [performance.now(), (window.__bench || {}).painted ?? null]"

COLLECT = """() => {
  const b = window.__bench;
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource").map((r) => [
    new URL(r.name).pathname, r.initiatorType, r.decodedBodySize,
  ]);
  return {
    painted: b.painted, dcl: b.dcl, fcp: b["first-contentful-paint"] ?? null,
    marks: b.marks, notes: b.notes,
    longest_task: b.longtasks.length ? Math.max(...b.longtasks) : 0,
    long_tasks: b.longtasks.length, long_task_total: b.longtasks.reduce((a, c) => a + c, 0),
    response_start: nav.responseStart, response_end: nav.responseEnd,
    load: nav.loadEventEnd, html_bytes: nav.decodedBodySize, resources,
  };
}"""


# Then a reader scrolls to the end, a screenful a frame: the longest task meanwhile (the notes
# beyond the first screen are laid out and painted as they come into view).
SCROLL = """async () => {
  const b = window.__bench;
  const before = b.longtasks.length;
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  while (scrollY + innerHeight < document.documentElement.scrollHeight - 1) {
    scrollBy(0, innerHeight);
    await frame();
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const during = b.longtasks.slice(before);
  return during.length ? Math.max(...during) : 0;
}"""


def say(**message) -> None:
    print(json.dumps(message), flush=True)


def main() -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    base, path, floor_path, cookie = sys.argv[1:5]
    runs = int(sys.argv[5])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        for n in range(len(KINDS) * runs):
            kind = KINDS[n % len(KINDS)]
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": "session", "value": cookie, "url": base}])
            page = context.new_page()
            page.add_init_script(PROBE + (LAY_OUT_EVERYTHING if kind == "whole" else ""))
            say(start=n)
            if kind.endswith(FROM_THE_LIBRARY):
                page.goto(base + floor_path, wait_until="load", timeout=0)
                page.wait_for_function("() => window.__bench && window.__bench.painted", timeout=0)
            url = base + (floor_path if kind.startswith("floor") else path)
            page.goto(url, wait_until="commit", timeout=0)
            painted = None
            while painted is None:
                with contextlib.suppress(PlaywrightError):  # between documents, or busy
                    now, painted = page.wait_for_function(HEARTBEAT, timeout=500).json_value()
                    say(alive=now)
                page.wait_for_timeout(100)
            page.wait_for_timeout(1000)  # the long tasks of scripts that run after the paint
            load = page.wait_for_function(COLLECT, timeout=0).json_value()
            load["kind"] = kind
            load["longest_scroll_task"] = page.evaluate(SCROLL)
            say(load=load)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
