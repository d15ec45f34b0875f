"""A live seminar under load: N readers keep the reading page open while members write.

    python3 -m bench.live                      # every run of the issue (about 12 x 40 s)
    python3 -m bench.live --runs 200x30 --rates 1 --seconds 20    # one quick run

For each run (A notes on the Carr text, N readers) this builds the seminar with ``bench/data.py``
(the group's members are the readers), serves it with gunicorn as in production
(``bench/server.py``), signs every reader in through the real form and has each do what the
reading page's script does: load the page, poll the text's change log every 2.5 s
(``static/js/live.js``), and fetch the parts the log names from their own addresses, with the
ETag it holds (``static/js/page.js``).
Meanwhile W members create notes at R per second through the API. Reported per run: the write
rate achieved, p50/p99 of creates, polls and page fetches, the **staleness** of each note (its
201 until each reader holds a page that contains it, p50/p99 over notes x readers), the
server's CPU seconds per note (gunicorn's processes, from /proc), errors, and hello world's
throughput measured in the same run. Readers' clients run in this process, so at hundreds of
readers the client's own CPU shares the machine with the server: the CPU figure counts only
the server's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field, replace

from bench import data, generate
from bench.load import make_bodies
from bench.server import Server, Session, fetch, sign_in

POLL_SECONDS = 2.5  # live.js's interval
RUNS = ((200, 30), (2_000, 30), (2_000, 100), (2_000, 300))
RATES = (0.2, 1.0, 2.0)
# The ids of the annotations a page shows: its highlights name them (data-top, data-starts).
SHOWN = re.compile(rb'data-(?:top|starts)="([\d ]+)"')
CURSOR = re.compile(rb'data-cursor="(\d+)"')


@dataclass
class Reader:
    """One open reading page: when it came to hold each note it shows."""

    session: Session
    held: dict[int, float] = field(default_factory=dict)
    polls: list[float] = field(default_factory=list)
    fetches: list[float] = field(default_factory=list)
    errors: int = 0
    etags: dict[int, str | None] = field(default_factory=dict)  # per part, as the browser keeps
    pages: int = 0  # whole pages fetched
    parts: int = 0  # parts fetched (200)
    unchanged: int = 0  # parts answered 304


def _get(
    base: str, session: Session, path: str, etag: str | None = None, answer: dict | None = None
) -> tuple[int, bytes, float]:
    headers = {"Cookie": session.cookie, "User-Agent": "scholia-bench", "Accept": "*/*"}
    if etag:
        headers["If-None-Match"] = etag
    return fetch(base, "GET", path, headers, timeout=120, answer_headers=answer)


def _hold(reader: Reader, body: bytes, now: float) -> None:
    for ids in SHOWN.findall(body):
        for annotation_id in ids.split():
            reader.held.setdefault(int(annotation_id), now)


def _load_page(base: str, reader: Reader, page: str) -> int:
    status, body, seconds = _get(base, reader.session, page)
    now = time.monotonic()
    reader.pages += 1
    reader.fetches.append(seconds)
    if status != 200:
        reader.errors += 1
        return -1
    _hold(reader, body, now)
    found = CURSOR.search(body)
    return int(found.group(1)) if found else -1


def _fetch_part(base: str, reader: Reader, page: str, number: int) -> None:
    """A part the feed named, from its own address, with the ETag held (page.js, the browser's
    cache): a 304 when it is unchanged for this reader."""
    path, _, query = page.partition("?")
    answer: dict = {}
    status, body, seconds = _get(
        base, reader.session, f"{path}/parts/{number}?{query}", reader.etags.get(number), answer
    )
    reader.fetches.append(seconds)
    if status == 200:
        reader.parts += 1
        reader.etags[number] = answer.get("ETag")
        _hold(reader, body, time.monotonic())
    elif status == 304:
        reader.unchanged += 1
    else:
        reader.errors += 1


def _read(base: str, reader: Reader, page: str, slug: str, stop: threading.Event) -> None:
    """What the page's script does: poll from the page's cursor, fetch the parts the feed
    names (the page, for an event that names none)."""
    cursor = _load_page(base, reader, page)
    # Readers opened the page at different moments: their polls do not march in step.
    stop.wait(POLL_SECONDS * (hash(reader.session.cookie) % 1000) / 1000)
    while not stop.is_set():
        status, body, seconds = _get(
            base, reader.session, f"/api/v1/texts/{slug}/events?after={cursor}"
        )
        reader.polls.append(seconds)
        if status != 200:
            reader.errors += 1
        else:
            answer = json.loads(body)
            events = answer["events"]
            if any(not e.get("parts") for e in events):
                cursor = max(cursor, _load_page(base, reader, page), answer["cursor"])
            else:
                for number in sorted({n for e in events for n in e["parts"]}):
                    _fetch_part(base, reader, page, number)
                cursor = answer["cursor"]
        stop.wait(POLL_SECONDS)


def _write(
    base: str,
    session: Session,
    bodies: list[str],
    every: float,
    stop: threading.Event,
    created: dict[int, float],
    latencies: list[float],
    errors: list[int],
) -> None:
    """A note every ``every`` seconds, on schedule: a slow answer does not delay the next."""
    headers = {
        "Cookie": session.cookie,
        "User-Agent": "scholia-bench",
        "X-CSRFToken": session.csrf,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    due = time.monotonic()
    for body in bodies:
        if stop.wait(max(0.0, due - time.monotonic())):
            return
        due += every
        status, answer, seconds = fetch(base, "POST", "/api/v1/annotations", headers, body.encode())
        latencies.append(seconds)
        if status == 201:
            created[int(json.loads(answer)["id"].rsplit("/", 1)[1])] = time.monotonic()
        else:
            errors.append(status)


def _server_cpu(server: Server) -> float:
    """CPU seconds (user + system) of gunicorn's master and workers so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry), int(fields[1])
        if pid == server.process.pid or parent == server.process.pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def hello_world(workers: int, seconds: float = 5.0, clients: int = 8) -> float:
    """Requests per second of the smallest Flask app on the same gunicorn: the run's baseline."""
    server = Server("bench.hello:app", None, workers, "live-hello")
    counts = [0] * clients
    stop = threading.Event()

    def client(n: int) -> None:
        while not stop.is_set():
            fetch(server.base, "GET", "/")
            counts[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    return sum(counts) / seconds


def run(notes: int, readers: int, rate: float, args: argparse.Namespace) -> dict:
    writers = max(1, min(args.writers, readers))
    params = replace(
        generate.Params(),
        members=max(readers, 30),
        annotations=notes,
        replies=notes * 3 // 4,
        reactions=notes * 3 // 4,
    )
    dataset = data.ensure("small", params, args.postgres)
    manifest = dataset.manifest
    label = f"live-{notes}-{readers}-{rate}"
    url = data.working_copy(dataset, label)
    server = Server("wsgi:app", url, args.workers, label)
    try:
        members = manifest["members"][:readers]
        sessions = [sign_in(server.base, email, manifest["password"]) for email in members]
        page = f"/texts/{generate.CARR}?lens=group-{manifest['group_id']}"
        content = json.loads(_get(server.base, sessions[0], f"/api/v1/texts/{generate.CARR}")[1])[
            "content"
        ]
        count = int(args.seconds * rate) + writers
        bodies = make_bodies(server.base, content, manifest["group_id"], count)
        stop = threading.Event()
        page_readers = [Reader(s) for s in sessions]
        threads = [
            threading.Thread(target=_read, args=(server.base, r, page, generate.CARR, stop))
            for r in page_readers
        ]
        for thread in threads:
            thread.start()
        time.sleep(POLL_SECONDS + 1)  # every page open and polling
        created: dict[int, float] = {}
        create_latency: list[float] = []
        create_errors: list[int] = []
        cpu_before, started = _server_cpu(server), time.monotonic()
        writer_threads = [
            threading.Thread(
                target=_write,
                args=(
                    server.base,
                    sessions[n],
                    bodies[n::writers],
                    writers / rate,
                    stop,
                    created,
                    create_latency,
                    create_errors,
                ),
            )
            for n in range(writers)
        ]
        for thread in writer_threads:
            thread.start()
        time.sleep(args.seconds)
        for thread in writer_threads:
            thread.join(timeout=0)  # writers stop with the readers below
        writing = time.monotonic() - started
        time.sleep(POLL_SECONDS * 2 + 1)  # the last notes reach every page
        cpu = _server_cpu(server) - cpu_before
        stop.set()
        for thread in threads + writer_threads:
            thread.join(timeout=120)
    finally:
        server.stop()
        data.drop_copy(dataset, url)
    stale = [
        reader.held[note] - at if note in reader.held else float("inf")
        for note, at in created.items()
        for reader in page_readers
    ]
    never = sum(1 for s in stale if s == float("inf"))
    return {
        "notes": notes,
        "readers": readers,
        "rate": rate,
        "writers": writers,
        "achieved_rate": round(len(created) / writing, 2) if writing else 0,
        "created": len(created),
        "create_p50_ms": _ms(_percentile(create_latency, 0.5)),
        "create_p99_ms": _ms(_percentile(create_latency, 0.99)),
        "poll_p50_ms": _ms(_percentile([p for r in page_readers for p in r.polls], 0.5)),
        "poll_p99_ms": _ms(_percentile([p for r in page_readers for p in r.polls], 0.99)),
        "fetch_p50_ms": _ms(_percentile([f for r in page_readers for f in r.fetches], 0.5)),
        "fetch_p99_ms": _ms(_percentile([f for r in page_readers for f in r.fetches], 0.99)),
        "stale_p50_s": _round(_percentile(stale, 0.5)),
        "stale_p99_s": _round(_percentile(stale, 0.99)),
        "never_seen": never,
        "cpu_s_per_note": round(cpu / len(created), 3) if created else None,
        "polls": sum(len(r.polls) for r in page_readers),
        "pages": sum(r.pages for r in page_readers),
        "parts": sum(r.parts for r in page_readers),
        "parts_unchanged": sum(r.unchanged for r in page_readers),
        "errors": len(create_errors) + sum(r.errors for r in page_readers),
    }


def _round(value: float | None) -> float | None:
    return None if value is None or value == float("inf") else round(value, 2)


def _pair(text: str) -> tuple[int, int]:
    notes, readers = text.lower().split("x")
    return int(notes), int(readers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=lambda s: [_pair(p) for p in s.split(",")], default=RUNS)
    parser.add_argument("--rates", type=lambda s: [float(r) for r in s.split(",")], default=RATES)
    parser.add_argument("--seconds", type=float, default=30.0, help="writing time per run")
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--postgres", help="a PostgreSQL URL whose role may CREATE DATABASE")
    args = parser.parse_args(argv)
    hello = hello_world(args.workers)
    print(f"hello world: {hello:,.0f} req/s ({args.workers} workers)", flush=True)
    results = []
    for notes, readers in args.runs:
        for rate in args.rates:
            result = run(notes, readers, rate, args)
            results.append(result)
            print(json.dumps(result), flush=True)
    print(f"hello world again: {hello_world(args.workers):,.0f} req/s", flush=True)
    print("\n notes readers  rate  achieved  stale p50/p99 s  CPU s/note  create p99 ms  errors")
    for r in results:
        print(
            f"{r['notes']:>6} {r['readers']:>7} {r['rate']:>5} {r['achieved_rate']:>9} "
            f"{r['stale_p50_s']!s:>7}/{r['stale_p99_s']!s:<7} {r['cpu_s_per_note']!s:>10} "
            f"{r['create_p99_ms']!s:>14} {r['errors']:>7}"
            + (f"  ({r['never_seen']} never seen)" if r["never_seen"] else "")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
