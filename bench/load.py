"""Driving a server with load: the workloads, wrk or a Python client, one measurement each."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import data, generate
from bench.server import ROOT, USER_AGENT, WORK, Server, Session, fetch, sign_in

LUA = ROOT / "bench" / "load.lua"


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    read_path: str = "/"
    write_every: int = 0  # 0: GETs only; 1: POSTs only; 10: every 10th request a POST
    signed_in: bool = True
    write_path: str = "/api/v1/annotations"
    module: str = "wsgi:app"  # what gunicorn serves


@dataclass
class LoadResult:
    key: str
    title: str
    database: str
    client: str
    requests: int
    seconds: float
    rps: float
    # None when no request finished within the time bound.
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    errors: dict
    server_5xx: int = 0
    load_before: float = 0.0
    baseline_rps: float | None = None  # hello world's, measured right before
    ratio: float | None = None

    @property
    def failed_requests(self) -> int:
        return sum(self.errors.values()) + self.server_5xx


# The baseline every figure is a ratio to: the smallest Flask app, served the same way.
HELLO = Workload("hello", "hello world (baseline)", "/", signed_in=False, module="bench.hello:app")


def request_for(workload: Workload, session: Session | None, bodies: list[str], n: int):
    """The n-th request of a workload, as (method, path, headers, body): the Lua script's rule."""
    headers = {"User-Agent": USER_AGENT}
    if session:
        headers["Cookie"] = session.cookie
    if workload.write_every and n % workload.write_every == 0:
        headers.update(
            {
                "X-CSRFToken": session.csrf,
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        )
        body = bodies[(n // workload.write_every) % len(bodies)]
        return "POST", workload.write_path, headers, body.encode()
    headers["Accept-Encoding"] = "gzip"  # as a browser asks
    return "GET", workload.read_path, headers, None


def check(server: Server, workload: Workload, session: Session | None, bodies: list[str]) -> None:
    """One request of each kind the workload sends must succeed before any load is applied."""
    kinds = {0: 200} if not workload.write_every else {workload.write_every: 201}
    if workload.write_every > 1:
        kinds[1] = 200
    for n, expected in kinds.items():
        method, path, headers, body = request_for(workload, session, bodies, n)
        status, answer, _ = fetch(server.base, method, path, headers, body, timeout=120)
        if status != expected:
            raise RuntimeError(
                f"{workload.key}: {method} {path} answered {status}, not {expected}: "
                f"{answer[:300]!r}"
            )


def warm_up(server: Server, workload: Workload, session, bodies: list[str], seconds: float) -> None:
    """Each worker serves a few requests first (imports, templates, caches), with no backlog.

    Sequential clients, one per worker and one more: when they stop, nothing is left queued in
    the server, so a slow page's warm-up cannot spill into the measurement.
    """
    deadline = time.monotonic() + seconds

    def client(offset: int) -> None:
        n = offset * 1000
        while True:
            n += 1
            method, path, headers, body = request_for(workload, session, bodies, n)
            with contextlib.suppress(OSError):
                fetch(server.base, method, path, headers, body, timeout=120)
            if time.monotonic() >= deadline:
                return

    threads = [threading.Thread(target=client, args=(i + 50,)) for i in range(server.workers + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_wrk(
    server: Server, workload: Workload, session, bodies_file: Path, args, label: str
) -> dict:
    report = WORK / f"{label}.wrk.json"
    report.unlink(missing_ok=True)
    env = dict(
        os.environ,
        BENCH_COOKIE=session.cookie if session else "",
        BENCH_USER_AGENT=USER_AGENT,
        BENCH_CSRF=session.csrf if session else "",
        BENCH_READ_PATH=workload.read_path,
        BENCH_WRITE_PATH=workload.write_path,
        BENCH_BODIES=str(bodies_file) if workload.write_every else "",
        BENCH_WRITE_EVERY=str(workload.write_every),
        BENCH_REPORT=str(report),
    )
    command = [
        "wrk",
        "-t", str(min(args.threads, args.connections)),
        "-c", str(args.connections),
        "-d", f"{args.duration}s",
        # Longer than the run: a slow answer counts as slow, never silently as a "timeout".
        "--timeout", f"{args.duration + 30}s",
        "--latency",
        "-s", str(LUA),
        server.base + workload.read_path,
    ]  # fmt: skip
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=args.duration + 120
    )
    if result.returncode or not report.exists():
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    figures = json.loads(report.read_text())
    latency = figures["latency_us"]
    done = figures["requests"] > 0  # else wrk reports zeros: no latency was observed at all

    def ms(key: str) -> float | None:
        return latency[key] / 1000 if done else None

    return {
        "requests": figures["requests"],
        "seconds": figures["duration_us"] / 1e6,
        "p50_ms": ms("p50"),
        "p90_ms": ms("p90"),
        "p99_ms": ms("p99"),
        "max_ms": ms("max"),
        "errors": {k: v for k, v in figures["errors"].items() if v},
    }


def run_python(
    server: Server, workload: Workload, session, bodies: list[str], args, label: str
) -> dict:
    """A bounded fallback when wrk is missing: one thread per connection, same requests.

    Python's threads share one core's worth of interpreter, so on a fast endpoint the client,
    not the server, may be the limit; the table says which client measured.
    """
    started = time.monotonic()
    deadline = started + args.duration
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def client(offset: int) -> None:
        n = offset * 1000
        while time.monotonic() < deadline:
            n += 1
            method, path, headers, body = request_for(workload, session, bodies, n)
            remaining = deadline - time.monotonic() + 1
            try:
                status, _, seconds = fetch(
                    server.base, method, path, headers, body, timeout=max(remaining, 0.1)
                )
            except OSError:
                if time.monotonic() < deadline:
                    with lock:
                        errors["read"] = errors.get("read", 0) + 1
                continue
            if time.monotonic() > deadline:
                return  # finished after the bell: not counted, as wrk does
            with lock:
                latencies.append(seconds)
                if status >= 400:
                    errors["status"] = errors.get("status", 0) + 1

    threads = [
        threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.duration + 5)
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "seconds": args.duration,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": latencies[-1] * 1000 if latencies else None,
        "errors": errors,
    }


@dataclass
class Context:
    args: argparse.Namespace
    client: str
    bodies: list[str] = field(default_factory=list)
    bodies_file: Path = WORK / "bodies.jsonl"
    results: list[LoadResult] = field(default_factory=list)
    hello: Workload = HELLO


def measure(
    ctx: Context,
    workload: Workload,
    database_url: str | None = None,
    dataset: data.Dataset | None = None,
    label: str = "",
) -> LoadResult:
    """Hello world first (unless this is it), then the workload, each on a fresh server."""
    baseline = None
    if workload.key != "hello":
        baseline = measure(ctx, ctx.hello, label=f"{label}-hello")
    args = ctx.args
    database = dataset.kind if dataset else "-"
    load_before = os.getloadavg()[0]
    print(f"  {workload.title} on {database} ...", end=" ", flush=True)
    server = Server(workload.module, database_url, args.workers, label or workload.key)
    try:
        session = None
        if workload.signed_in:
            viewer = dataset.manifest["viewer"]["email"]
            session = sign_in(server.base, viewer, dataset.manifest["password"])
        check(server, workload, session, ctx.bodies)
        warm_up(server, workload, session, ctx.bodies, args.warmup)
        if ctx.client == "wrk":
            figures = run_wrk(server, workload, session, ctx.bodies_file, args, label)
        else:
            figures = run_python(server, workload, session, ctx.bodies, args, label)
    finally:
        server.stop()
    result = LoadResult(
        key=workload.key,
        title=workload.title,
        database=database,
        client=ctx.client,
        rps=figures["requests"] / figures["seconds"] if figures["seconds"] else 0.0,
        server_5xx=server.server_errors(),
        load_before=round(load_before, 2),
        **figures,
    )
    if baseline is not None:
        result.baseline_rps = baseline.rps
        result.ratio = result.rps / baseline.rps if baseline.rps else None
    ratio = f" = {result.ratio:.2%} of hello" if result.ratio is not None else ""
    print(
        f"{result.rps:,.1f} req/s{ratio}, p50 {fmt_ms(result.p50_ms)} ms, "
        f"p99 {fmt_ms(result.p99_ms)} ms, {result.requests} requests"
        + (f", errors {result.errors} 5xx {result.server_5xx}" if result.failed_requests else ""),
        flush=True,
    )
    ctx.results.append(result)
    return result


def make_bodies(base: str, content: str, group_id: int, count: int = 400) -> list[str]:
    """Valid W3C annotations on the Carr excerpt for the group: highlights and notes in turn."""
    rng = random.Random(f"bench-bodies-{group_id}")
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", content)]
    colors = ["yellow", "green", "blue", "pink", "purple"]
    bodies = []
    for i in range(count):
        first = rng.randrange(len(words) - 8)
        last = first + rng.randrange(0, 8)
        start, end = words[first][0], words[last][1]
        if "\n\n" in content[start:end]:  # keep within one paragraph, as a selection would
            end = start + content[start:end].index("\n\n")
        selectors = [
            {
                "type": "TextQuoteSelector",
                "exact": content[start:end],
                "prefix": content[max(0, start - 32) : start],
                "suffix": content[end : end + 32],
            },
            {"type": "TextPositionSelector", "start": start, "end": end},
        ]
        annotation = {
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "type": "Annotation",
            "target": {"source": f"{base}/texts/{generate.CARR}", "selector": selectors},
            "scholia:visibility": "group",
            "scholia:group": group_id,
        }
        if i % 2:
            annotation["motivation"] = "commenting"
            annotation["body"] = [
                {"type": "TextualBody", "purpose": "commenting", "value": f"Load test *note* {i}."},
                {"type": "TextualBody", "purpose": "tagging", "value": "bench"},
            ]
        else:
            annotation["motivation"] = "highlighting"
            annotation["scholia:color"] = colors[i % 5]
        bodies.append(json.dumps(annotation, ensure_ascii=False))
    return bodies


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}" if value >= 1 else f"{value:.2f}"
