"""What a page costs besides throughput: its weight, its SQL and server time, and how soon a
browser paints it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse

from bench.browser import CHROMIUM, KINDS
from bench.server import ROOT, Session, fetch

STATIC_VERSION = re.compile(r"^/static/[0-9a-f]{12}/")


JS_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+\.js)["']""")


def page_weight(base: str, session: Session, path: str) -> dict:
    """Bytes of the page and of every stylesheet and script it loads (uncompressed)."""
    headers = {"Cookie": session.cookie}
    status, html, _ = fetch(base, "GET", path, headers, timeout=120)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    text = html.decode()
    status, gzipped, _ = fetch(base, "GET", path, {**headers, "Accept-Encoding": "gzip"})
    css = re.findall(r'<link rel="stylesheet" href="([^"]+)"', text)
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', text)
    weight = {"html": len(html), "html_gzip": len(gzipped), "css": 0, "js": 0, "files": {}}
    seen: set[str] = set()
    queue = [("css", u) for u in css] + [("js", u) for u in scripts]
    while queue:
        kind, url = queue.pop(0)
        url = urllib.parse.urljoin(base + path, url)
        if url in seen:
            continue
        seen.add(url)
        part = urllib.parse.urlsplit(url)
        status, body, _ = fetch(base, "GET", part.path + (f"?{part.query}" if part.query else ""))
        if status != 200:
            continue
        weight[kind] += len(body)
        # Named without the static files' version (app/assets.py), to compare runs of commits.
        weight["files"][STATIC_VERSION.sub("/static/", part.path)] = len(body)
        if kind == "js":
            queue += [
                ("js", urllib.parse.urljoin(url, m)) for m in JS_IMPORT.findall(body.decode())
            ]
    weight["total"] = weight["html"] + weight["css"] + weight["js"]
    return weight


def browser_paint(
    base: str, session: Session, path: str, floor_path: str, runs: int, budget: float
) -> dict:
    """bench/browser.py loads the page ``runs`` times each way, and ``floor_path`` as often;
    each load has ``budget`` seconds to paint.

    The child reports each answer of the page's main thread; when a load runs out of budget it is
    killed, and the silence since the last answer is how long the main thread was stuck (at
    least: it may have gone on).
    """
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} is missing"}
    arguments = [base, path, floor_path, session.cookie_value, str(runs)]
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.browser", *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    loads: list[dict] = []
    last_answer = time.monotonic()
    deadline = last_answer + budget  # for starting the browser, then for each load
    silence = 0.0
    try:
        while len(loads) < len(KINDS) * runs:
            wait = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([child.stdout], [], [], min(wait, 1.0))
            now = time.monotonic()
            if now >= deadline:
                silence = max(silence, now - last_answer)
                return {
                    "painted": None,
                    "budget_s": budget,
                    "unresponsive_ms": silence * 1000,
                    "runs": loads,
                }
            if not ready:
                if child.poll() is not None:
                    return {"skipped": f"bench.browser exited with {child.returncode}"}
                continue
            line = child.stdout.readline()
            if not line:
                return {"skipped": f"bench.browser exited with {child.wait()}"}
            message = json.loads(line)
            if "start" in message:
                last_answer, deadline, silence = now, now + budget, 0.0
            elif "alive" in message:
                silence, last_answer = max(silence, now - last_answer), now
            elif "load" in message:
                message["load"]["unresponsive_ms"] = max(silence, now - last_answer) * 1000
                loads.append(message["load"])
                deadline = now + budget
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    on_screen = [m for m in loads if m["kind"] == "as is"]
    summary = {
        key: statistics.median(m[key] for m in on_screen if m.get(key) is not None)
        for key in (
            "painted",
            "dcl",
            "response_start",
            "response_end",
            "longest_task",
            "longest_scroll_task",
        )
    }
    everything = [m for m in loads if m["kind"] == "whole"]

    def median_painted(kind: str) -> float:
        return statistics.median(m["painted"] for m in loads if m["kind"] == kind)

    summary.update(
        painted_everything=median_painted("whole"),
        longest_task_everything=statistics.median(m["longest_task"] for m in everything),
        painted_floor=median_painted("floor"),
        painted_from_library=median_painted("as is, from the library"),
        painted_floor_from_library=median_painted("floor, from the library"),
        budget_s=budget,
        runs=[{k: v for k, v in m.items() if k != "resources"} for m in loads],
        marks=loads[0]["marks"],
        notes=loads[0]["notes"],
        resources=loads[0]["resources"],
    )
    return summary


def in_process(spec: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", json.dumps(spec)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("SCHOLIA_")},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"bench.inprocess failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)
