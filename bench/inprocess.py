"""In-process figures per database, through Flask's test client: no network, no workers.

For each path, rendered (the render cache emptied first) and then served from the cache: how
many SQL statements one request runs (counted with a SQLAlchemy event
listener on the app's engine; BEGIN/COMMIT/PRAGMA left out), how long they took, the whole
request's time and the response size. The first request of each path only warms up (templates
compile, caches fill) and is not counted.

    .venv/bin/python -m bench.inprocess '{"viewer": 5, "repeat": 3,
        "databases": {"big": URL, "small": URL}, "paths": {"big": [PATH], "small": [PATH]}}'

prints the figures as JSON (the median time of the rounds, the statements of the last one).
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections import Counter

from sqlalchemy import event

from app import create_app
from app.extensions import db
from bench.generate import SECRET_KEY

NOT_QUERIES = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)\b", re.I)


def _shape(statement: str) -> str:
    """A statement's first words and table, to group repeats (``SELECT … FROM annotation_tag``)."""
    words = " ".join(statement.split())
    table = re.search(r"\bFROM (\w+)", words)
    verb = words.split(" ", 1)[0].upper()
    return f"{verb} … FROM {table.group(1)}" if table else words[:60]


def _app(url: str, viewer_id: int):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET_KEY,
            "WRITES_PER_MINUTE": 0,
            "WRITES_PER_DAY": 0,
        }
    )
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(viewer_id)
        session["_fresh"] = True
    with app.app_context():
        engine = db.engine
    return client, engine, app.extensions["render_cache"]


def measure(viewer_id: int, databases: dict[str, str], paths: dict[str, list], repeat: int) -> dict:
    """Requests on each database in turn, ``repeat`` rounds: slow drifts hit all of them alike."""
    statements: list[tuple[str, float]] = []
    started: list[float] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, time.perf_counter() - started.pop()))

    clients, caches = {}, {}
    for label, url in databases.items():
        client, engine, caches[label] = _app(url, viewer_id)
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        clients[label] = client
        for path in paths[label]:
            client.get(path)  # warm-up: templates compile, caches fill
    runs: dict[str, dict[str, list]] = {label: {p: [] for p in paths[label]} for label in clients}

    def one(client, path: str) -> dict:
        statements.clear()
        begin = time.perf_counter()
        response = client.get(path)
        total = time.perf_counter() - begin
        queries = [(s, d) for s, d in statements if not NOT_QUERIES.match(s)]
        slowest = sorted(queries, key=lambda q: -q[1])[:3]
        return {
            "status": response.status_code,
            "bytes": len(response.data),
            "queries": len(queries),
            "sql_ms": round(sum(d for _, d in queries) * 1000, 1),
            "total_ms": round(total * 1000, 1),
            "shapes": dict(Counter(_shape(s) for s, _ in queries).most_common()),
            "slowest": [[" ".join(s.split())[:300], round(d * 1000, 1)] for s, d in slowest],
        }

    for _ in range(repeat):
        for label, client in clients.items():
            for path in paths[label]:
                # Rendered (the render cache emptied first), then served again from the cache.
                caches[label].clear()
                rendered = one(client, path)
                cached = one(client, path)
                rendered["cached_ms"] = cached["total_ms"]
                rendered["cached_queries"] = cached["queries"]
                runs[label][path].append(rendered)
    results: dict[str, dict] = {}
    for label, by_path in runs.items():
        results[label] = {}
        for path, measured in by_path.items():
            summary = dict(measured[-1])
            summary["total_ms"] = statistics.median(r["total_ms"] for r in measured)
            summary["sql_ms"] = statistics.median(r["sql_ms"] for r in measured)
            summary["total_ms_runs"] = [r["total_ms"] for r in measured]
            summary["cached_ms"] = statistics.median(r["cached_ms"] for r in measured)
            results[label][path] = summary
    return results


def main() -> None:
    spec = json.loads(sys.argv[1])
    print(json.dumps(measure(spec["viewer"], spec["databases"], spec["paths"], spec["repeat"])))


if __name__ == "__main__":
    main()
