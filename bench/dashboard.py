"""How the seminar dashboard's cost grows with the group's notes: 1,000, then 10,000.

    .venv/bin/python -m bench.dashboard                  # SQLite, in a temporary folder
    .venv/bin/python -m bench.dashboard --postgres URL   # PostgreSQL too (a schema of its own)

A fresh database is migrated, the Carr excerpt seeded, and a seminar of 30 members (an owner, an
instructor) made with the text on its reading list, as ``bench/generate.py`` makes the small
dataset; then the group's notes are bulk inserted by its generator, every row what the services
store: 1,000 threads' first notes (highlights, notes, a tenth questions, tags), 750 replies and
750 reactions (a third *Puzzled*), then as many again up to 10,000 notes, 7,500 replies and
7,500 reactions. In process, through Flask's test client signed in as the instructor, each of
the dashboard's pages (and the service alone) is timed (median of ``--rounds``) against a
baseline taken in turn with it: the library page (``GET /``) for the same instructor. **ratio**
and **growth** as in ``bench/growth.py``.
"""

from __future__ import annotations

import random
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.models import User, Visibility
from app.services import dashboard, importer
from app.services.access import viewer_for
from bench import generate, growth
from bench.growth import SEED, SIZES

MEMBERS = 30
REPLIES = REACTIONS = 0.75  # a note's share of each, as in the small dataset (1,500 per 2,000)


def _seminar(session) -> tuple[generate.Generator, dict, int, list[int]]:
    """The Carr excerpt on the reading list of a group of ``MEMBERS``, the first its owner and
    the second its instructor, as ``Generator.run`` makes them."""
    importer.import_file(session, SEED)
    params = generate.Params(members=MEMBERS, texts=0)
    gen = generate.Generator(session.connection(), params)
    carr = gen.load_text(generate.CARR)
    rng = random.Random(f"{params.seed}-seminar")
    since = generate.EPOCH - timedelta(days=60)
    members = gen.make_users(rng, MEMBERS, "seminar", since)
    group_id = gen.make_group(rng, "Carr seminar", members)
    gen.assign(group_id, carr["id"], 0, "Where does Carr see continuity with war communism?")
    session.commit()
    return gen, carr, group_id, members


def _add_notes(session, gen, rng, carr, group_id, members, count: int) -> None:
    """``count`` more of the group's notes on the text, with their replies and reactions."""
    gen.conn = session.connection()
    thread = generate.Thread(gen, rng, carr, group_id, members)
    thread.roots(count, Visibility.GROUP)
    thread.replies(int(count * REPLIES))
    thread.reactions(int(count * REACTIONS))
    thread.store()
    session.commit()
    if db.engine.dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()


def measure(url: str, rounds: int) -> list[dict]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    rows = []
    with app.app_context():
        upgrade()
        session = db.session
        gen, carr, group_id, members = _seminar(session)
        instructor = viewer_for(session, session.get(User, members[1]))
        client = app.test_client()
        growth.sign_in(client, instructor)
        base = f"/groups/{group_id}/texts/{generate.CARR}"
        pages = {
            "dashboard page": f"{base}/dashboard",
            "participation.csv": f"{base}/dashboard/participation.csv",
            "heatmap.svg": f"{base}/dashboard/heatmap.svg",
            "notes list": f"{base}/notes",
        }
        rng = random.Random(1917)
        added = 0
        for size in SIZES:
            _add_notes(session, gen, rng, carr, group_id, members, size - added)
            added = size

            def library():
                assert client.get("/").status_code == 200

            def service():
                dashboard.dashboard(session, instructor, group_id, generate.CARR)
                session.rollback()

            rows.append(growth.row(size, {"what": "dashboard service"}, service, library, rounds))
            for name, path in pages.items():

                def page(path=path):
                    assert client.get(path).status_code == 200

                rows.append(growth.row(size, {"what": name}, page, library, rounds))
        session.remove()
        db.engine.dispose()
    return rows


if __name__ == "__main__":
    growth.main(
        __doc__,
        "dashboard",
        measure,
        "the dashboard's time over the library page's (GET /), same run, as an instructor",
        {"what": 20},
    )
