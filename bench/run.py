"""The benchmark: Scholia under load, every figure a ratio to hello world measured beside it.

``python3 dev.py bench`` runs this with the project's venv. Each measurement starts a fresh
gunicorn (this folder's ``gunicorn.conf.py`` with ``-w WORKERS``, on 127.0.0.1, a fixed
SECRET_KEY) on a fresh copy of a generated database (``bench/generate.py``); a seminar member
signs in through the real form; after a warm-up, wrk (``bench/load.lua`` adds the session cookie,
the CSRF header and the POST bodies) drives it with 32 connections for 10 seconds:

* reading: GET /texts/carr-rapprochement?lens=group-<id>, the seminar's reading page
* api_list: GET /api/v1/annotations?text=carr-rapprochement
* create: POST /api/v1/annotations, a W3C annotation for the group (a highlight or a note)
* write_floor: the same POSTs to a route of bench/floor.py that checks CSRF, loads the reader
  and parses the body, then writes nothing: what every write pays before its own work
* write_row: the same again, then the body stored as one row (one INSERT, the commit): the
  least any create can cost on this stack
* mix: 90% reading page, 10% create

Right before each of them, bench/hello.py (the smallest Flask app) is measured the same way, and
the workload's throughput is given as a ratio to that: on a shared, noisy machine the baseline
drifts within minutes, so each ratio uses the baseline of its own minute. The reading page is
measured on the 100,000-annotation database and on the small one in alternation. Also: SQL
statements per page and server time (in-process), the page's weight, and in headless Chromium
the time until every highlight and note is painted and the longest main-thread task. Results go
to bench/results/<name>.json, and a table with each target of the issue and whether it holds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime

from bench import data, floor, generate
from bench.load import HELLO, Context, Workload, make_bodies, measure, warm_up
from bench.page import browser_paint, in_process, page_weight
from bench.report import print_report, summarise
from bench.server import ROOT, WORK, Server, fetch, sign_in

RESULTS = ROOT / "bench" / "results"


WORKERS_WHY = (
    "one per core, gunicorn.conf.py's default: sync workers are CPU-bound here; against two "
    "per core, reading pages were ~10% faster, the 90/10 mix twice as fast (fewer workers "
    "rendering each change) and creates no slower (bench/README.md)"
)


def workloads(group_id: int) -> dict[str, Workload]:
    reading = f"/texts/{generate.CARR}?lens=group-{group_id}"
    api = f"/api/v1/annotations?text={generate.CARR}"
    return {
        "hello": HELLO,
        "reading": Workload("reading", "reading page, group lens", reading),
        "api_list": Workload("api_list", "annotation list API", api),
        "create": Workload("create", "create annotation (POST)", reading, write_every=1),
        "write_floor": Workload(
            "write_floor",
            "POST, no write (floor)",
            reading,
            write_every=1,
            write_path=floor.PATH,
            module="bench.floor:create()",
        ),
        "write_row": Workload(
            "write_row",
            "POST, one row written",
            reading,
            write_every=1,
            write_path=floor.ROW_PATH,
            module="bench.floor:create()",
        ),
        "mix": Workload("mix", "90% reading / 10% create", reading, write_every=10),
    }


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip()


ONLY_CHOICES = ("reading", "api_list", "create", "mix", "browser")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 dev.py bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--name", help="results file name (default: the git short hash)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up each")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternations of the big and small reading page"
    )
    parser.add_argument("--browser-runs", type=int, default=3)
    parser.add_argument(
        "--browser-budget", type=float, default=60.0, help="seconds a page load may take"
    )
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--only",
        action="append",
        choices=ONLY_CHOICES,
        help="measure only this part (repeatable); the targets are then not judged",
    )
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--postgres", help="PostgreSQL URL (role with CREATEDB) instead of SQLite")
    parser.add_argument("--seed", type=int, default=generate.Params.seed)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    name = args.name or git("rev-parse", "--short", "HEAD") or "unnamed"
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(
        f"Scholia benchmark '{name}': {args.connections} connections, {args.duration} s per "
        f"measurement after {args.warmup:g} s of warm-up, load client {client}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n"
        f"gunicorn workers: {args.workers} ({WORKERS_WHY})",
        flush=True,
    )
    params = generate.Params(seed=args.seed)
    big = data.ensure("big", params, args.postgres)
    small = data.ensure("small", params, args.postgres)
    loads = workloads(big.manifest["group_id"])
    viewer_id = big.manifest["viewer"]["id"]
    ctx = Context(args, client)
    report: dict = {
        "name": name,
        "git": {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))},
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {
            "workers": args.workers,
            "workers_why": WORKERS_WHY,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "client": client,
            "cpus": os.cpu_count(),
            "database": "postgresql" if args.postgres else "sqlite",
        },
        "datasets": {d.kind: {k: d.manifest[k] for k in ("key", "counts")} for d in (big, small)},
    }
    copies: list[tuple[data.Dataset, str]] = []
    only = set(args.only or ONLY_CHOICES)

    def copy(dataset: data.Dataset, label: str) -> str:
        url = data.working_copy(dataset, label)
        copies.append((dataset, url))
        return url

    try:
        big_read, small_read = copy(big, "big-read"), copy(small, "small-read")
        if "reading" in only:
            print("in-process (Flask test client): SQL statements and server time", flush=True)
            report["in_process"] = in_process(
                {
                    "viewer": viewer_id,
                    "repeat": 3,
                    "databases": {"big": big_read, "small": small_read},
                    "paths": {
                        "big": [loads["reading"].read_path, loads["api_list"].read_path],
                        "small": [loads["reading"].read_path],
                    },
                }
            )
        # The POST bodies: valid annotations on the text as the API serves it.
        server = Server("wsgi:app", big_read, 1, "text")
        try:
            _, answer, _ = fetch(server.base, "GET", f"/api/v1/texts/{generate.CARR}")
        finally:
            server.stop()
        content = json.loads(answer)["content"]
        ctx.bodies = make_bodies("http://127.0.0.1", content, big.manifest["group_id"])
        ctx.bodies_file.write_text("\n".join(ctx.bodies) + "\n")

        print("under load (each after its own hello world):", flush=True)
        reading_big, reading_small = [], []
        for r in range(args.rounds if "reading" in only else 0):
            reading_big.append(measure(ctx, loads["reading"], big_read, big, f"reading-big-{r}"))
            reading_small.append(
                measure(ctx, loads["reading"], small_read, small, f"reading-small-{r}")
            )
        if "api_list" in only:
            measure(ctx, loads["api_list"], big_read, big, "api-list")
        for key in ("create", "mix"):  # each on its own copy: writes must not leak
            if key in only:
                measure(ctx, loads[key], copy(big, key), big, key)
            if key == "create" and key in only:  # what every write costs before its own work
                measure(ctx, loads["write_floor"], big_read, big, "write-floor")
                rows = copy(big, "write-row")
                floor.prepare(rows)
                measure(ctx, loads["write_row"], rows, big, "write-row")

        server = Server("wsgi:app", big_read, args.workers, "page")
        try:
            if "browser" not in only:
                args.no_browser = True
            session = sign_in(server.base, big.manifest["viewer"]["email"], generate.PASSWORD)
            report["page_weight"] = page_weight(server.base, session, loads["reading"].read_path)
            if args.no_browser:
                report["browser"] = {"skipped": "--no-browser"}
            else:
                print("headless Chromium: the reading page ...", flush=True)
                # As for wrk: every worker has rendered the page once before it is timed.
                reading = loads["reading"]
                warm_up(server, reading, session, ctx.bodies, args.warmup)
                report["browser"] = browser_paint(
                    server.base,
                    session,
                    loads["reading"].read_path,
                    "/",  # the library: a few lines, the same stylesheet and fonts
                    args.browser_runs,
                    args.browser_budget,
                )
        finally:
            server.stop()
    finally:
        for dataset, url in copies:
            with contextlib.suppress(OSError, RuntimeError):
                data.drop_copy(dataset, url)

    report["loads"] = [asdict(r) for r in ctx.results]
    if only == set(ONLY_CHOICES):
        report["summary"] = summarise(ctx.results, reading_big, reading_small, report)
    else:
        report["summary"] = {"targets": [], "only": sorted(only)}
    report["seconds"] = round(time.monotonic() - started, 1)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_report(report, ctx.results)
    print(f"\nresults: {out.relative_to(ROOT)} ({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
