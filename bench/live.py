"""A live seminar under load: N readers keep the reading page open while members write.

    python3 -m bench.live                      # every run of the issue (about 12 x 40 s)
    python3 -m bench.live --runs 200x30 --rates 1 --seconds 20    # one quick run

For each run (A notes on the Carr text, N readers) this builds the seminar with ``bench/data.py``
(the group's members are the readers), serves it with gunicorn as in production
(``bench/server.py``), signs every reader in through the real form and has each do what the
reading page's script does: load the page and poll its feed every 2.5 s
(``static/js/live.js``), which brings the events and the parts they changed as that page shows
them (``static/js/page.js`` swaps them in).
Meanwhile W members create notes at R per second through the API. Reported per run: the write
rate achieved, p50/p99 of creates, polls and page fetches, the **staleness** of each note (its
201 until each reader holds a page that contains it, p50/p99 over notes x readers), the
server's CPU seconds per note (gunicorn's processes, from /proc), errors, and hello world's
throughput measured in the same run. Beside the CPU per note, what the polls cost: each poll with
nothing new (measured before the writers start), and the floor, the polls per note priced as
hello world polled by as many clients the same way (every poll is at least a request).
Readers' clients run in this process, so at hundreds of readers the client's own CPU shares
the machine with the server: the CPU figure counts only the server's.
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
    pages: int = 0  # whole pages fetched
    parts: int = 0  # parts the feed brought


def _get(base: str, session: Session, path: str) -> tuple[int, bytes, float]:
    headers = {"Cookie": session.cookie, "User-Agent": "scholia-bench", "Accept": "*/*"}
    return fetch(base, "GET", path, headers, timeout=120)


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


def _read(base: str, reader: Reader, page: str, stop: threading.Event) -> None:
    """What the page's script does: poll the page's feed from the page's cursor, which brings
    the parts that changed (the page, for an event that names none)."""
    cursor = _load_page(base, reader, page)
    path, _, query = page.partition("?")
    # Readers opened the page at different moments: their polls do not march in step.
    stop.wait(POLL_SECONDS * (hash(reader.session.cookie) % 1000) / 1000)
    while not stop.is_set():
        status, body, seconds = _get(base, reader.session, f"{path}/events?{query}&after={cursor}")
        reader.polls.append(seconds)
        if status != 200:
            reader.errors += 1
        else:
            now = time.monotonic()
            answer = json.loads(body)
            for html in answer["parts"].values():
                reader.parts += 1
                _hold(reader, html.encode(), now)
            if any(not e.get("parts") for e in answer["events"]):
                cursor = max(cursor, _load_page(base, reader, page), answer["cursor"])
            else:
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


def hello_polled(readers: int, workers: int, seconds: float = 10.0) -> float:
    """Server CPU seconds per request of hello world polled by ``readers`` clients every 2.5 s,
    as the readers poll Scholia: the least any poll can cost on this stack, this load, this
    machine (the run's floor for the CPU per note)."""
    server = Server("bench.hello:app", None, workers, "live-hello-polled")
    stop = threading.Event()
    counts = [0] * readers

    def client(n: int) -> None:
        stop.wait(POLL_SECONDS * n / readers)
        while not stop.is_set():
            fetch(server.base, "GET", "/")
            counts[n] += 1
            stop.wait(POLL_SECONDS)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(readers)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(POLL_SECONDS)
        cpu, before = _server_cpu(server), sum(counts)
        time.sleep(seconds)
        cpu, polls = _server_cpu(server) - cpu, sum(counts) - before
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    return cpu / polls


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
            threading.Thread(target=_read, args=(server.base, r, page, stop)) for r in page_readers
        ]
        for thread in threads:
            thread.start()
        time.sleep(POLL_SECONDS + 1)  # every page open and polling
        # Nothing written yet: what the polls alone cost the server.
        cpu_before, polls_before = _server_cpu(server), _polls(page_readers)
        time.sleep(POLL_SECONDS * 2)
        idle_cpu = _server_cpu(server) - cpu_before
        idle_polls = _polls(page_readers) - polls_before
        created: dict[int, float] = {}
        create_latency: list[float] = []
        create_errors: list[int] = []
        cpu_before, started = _server_cpu(server), time.monotonic()
        polls_before = _polls(page_readers)
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
        polls = _polls(page_readers) - polls_before
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
    floor = hello_polled(readers, args.workers)
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
        # Of which the polls: each answered as a poll with nothing new costs (idle) ...
        "polls_per_note": round(polls / len(created), 1) if created else None,
        "idle_poll_cpu_ms": round(idle_cpu / idle_polls * 1000, 2) if idle_polls else None,
        # ... and the least they could cost: each as hello world polled the same way.
        "hello_poll_cpu_ms": round(floor * 1000, 2),
        "poll_floor_s_per_note": round(polls * floor / len(created), 3) if created else None,
        "polls": _polls(page_readers),
        "pages": sum(r.pages for r in page_readers),
        "parts": sum(r.parts for r in page_readers),
        "errors": len(create_errors) + sum(r.errors for r in page_readers),
    }


def _polls(readers: list[Reader]) -> int:
    return sum(len(r.polls) for r in readers)


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
    print(
        "\n notes readers  rate  achieved  stale p50/p99 s  CPU s/note (polls' floor)"
        "  create p99 ms  errors"
    )
    for r in results:
        print(
            f"{r['notes']:>6} {r['readers']:>7} {r['rate']:>5} {r['achieved_rate']:>9} "
            f"{r['stale_p50_s']!s:>7}/{r['stale_p99_s']!s:<7} {r['cpu_s_per_note']!s:>10} "
            f"({r['poll_floor_s_per_note']!s:>5})  "
            f"{r['create_p99_ms']!s:>14} {r['errors']:>7}"
            + (f"  ({r['never_seen']} never seen)" if r["never_seen"] else "")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
