"""What the in-process growth benchmarks share (``bench/search.py``, ``bench/dashboard.py``): a
fresh database of their own, a client signed in as one member, a time taken in turn with the
library page's, and a table of how the ratio grows from 1,000 to 10,000 annotations.

**ratio** is a time over the baseline's (``GET /`` for the same signed-in user, taken in turn
with it), so the figures travel between machines; **growth** is the ratio at the last size over
the ratio at the first (10 would be linear in the annotations; 1, no growth).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db
from app.models import User
from app.models.user import session_id
from app.services.access import Viewer, viewer_for

SEED = Path(__file__).resolve().parent.parent / "seeds" / "carr-rapprochement.txt"
SIZES = (1_000, 10_000)


def database(postgres: str | None, folder: Path, label: str) -> tuple[str, Callable[[], None]]:
    """A URL to an empty database (a SQLite file in ``folder``, or a PostgreSQL schema of its
    own) and what drops it afterwards."""
    if postgres is None:
        return f"sqlite:///{folder / f'{label}.sqlite3'}", lambda: None
    schema = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    separator = "&" if "?" in postgres else "?"
    return f"{postgres}{separator}options=-csearch_path%3D{schema}", drop


def sign_in(client, viewer: Viewer) -> None:
    """The test client's cookie signed in as ``viewer``, as auth would."""
    with client.session_transaction() as cookie:
        cookie["_user_id"] = session_id(viewer.id, viewer.user.session_generation)
        cookie["_fresh"] = True


def paired_ms(run, baseline, rounds: int) -> tuple[float, float]:
    """Median times of ``run`` and of ``baseline``, taken in turn (so a drift of the shared
    machine's speed hits both alike), after a warm-up of each."""
    run(), baseline()  # warm-up: templates compile, statements are cached
    times: dict = {run: [], baseline: []}
    for _ in range(rounds):
        for each in (baseline, run):
            started = time.perf_counter()
            each()
            times[each].append(time.perf_counter() - started)
    return statistics.median(times[run]) * 1000, statistics.median(times[baseline]) * 1000


def row(size: int, keys: dict, run, baseline, rounds: int) -> dict:
    """One measurement: ``keys`` name it (its columns in the table)."""
    took, base = paired_ms(run, baseline, rounds)
    return {**keys, "size": size, "ms": took, "ratio": took / base, "baseline_ms": base}


def report(title: str, rows: list[dict], columns: dict[str, int]) -> None:
    """The table: a line per measurement named by ``columns`` (key: width), each size's time and
    ratio, and the growth."""
    print(f"\n{title}")
    heading = "".join(f"{key:<{width}} " for key, width in columns.items())
    print(heading + "".join(f"{n:>10,} ms {'ratio':>6}" for n in SIZES) + f" {'growth':>7}")
    names = dict.fromkeys(tuple(r[k] for k in columns) for r in rows)
    for name in names:
        found = {r["size"]: r for r in rows if tuple(r[k] for k in columns) == name}
        label = "".join(
            f"{value:<{width}} " for value, width in zip(name, columns.values(), strict=True)
        )
        cells = "".join(f"{found[n]['ms']:>13.1f} {found[n]['ratio']:>6.2f}" for n in SIZES)
        growth = found[SIZES[-1]]["ratio"] / found[SIZES[0]]["ratio"]
        print(f"{label}{cells} {growth:>7.2f}")
    baseline = statistics.median(r["baseline_ms"] for r in rows)
    print(f"baseline (GET /, taken in turn with each): median {baseline:.1f} ms")


def measure(url: str, rounds: int, setup, add, timings) -> list[dict]:
    """A fresh app on ``url``, migrated; ``setup(session)`` makes what is measured and names the
    user signed in (``(state, user_id)``); then for each size ``add(session, rng, state, count)``
    brings the annotations up to it (and PostgreSQL analyses them, as autovacuum would), and
    each ``(keys, run)`` of ``timings(session, client, viewer, state)`` is timed against the
    library page."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    rows = []
    with app.app_context():
        upgrade()
        session = db.session
        state, user_id = setup(session)
        viewer = viewer_for(session, session.get(User, user_id))
        client = app.test_client()
        sign_in(client, viewer)

        def library():
            assert client.get("/").status_code == 200

        rng = random.Random(1917)
        added = 0
        for size in SIZES:
            add(session, rng, state, size - added)
            added = size
            session.commit()
            if db.engine.dialect.name == "postgresql":
                session.execute(text("ANALYZE"))
                session.commit()
            timed: Iterable = timings(session, client, viewer, state)
            rows.extend(row(size, keys, run, library, rounds) for keys, run in timed)
        session.remove()
        db.engine.dispose()
    return rows


def main(doc: str, label: str, title: str, columns: dict[str, int], *steps) -> None:
    """``python -m bench.<label> [--postgres URL] [--rounds N]``: ``measure(url, rounds,
    *steps)`` on SQLite, then on PostgreSQL when asked, each reported."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL: measured there too")
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        targets = [("SQLite", None)] + (
            [("PostgreSQL", options.postgres)] if options.postgres else []
        )
        for name, postgres in targets:
            url, drop = database(postgres, Path(folder), label)
            try:
                report(f"{name}: {title}", measure(url, options.rounds, *steps), columns)
            finally:
                drop()
