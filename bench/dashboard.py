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

from app.models import Visibility
from app.services import dashboard, importer
from bench import generate, growth
from bench.growth import SEED

MEMBERS = 30
REPLIES = REACTIONS = 0.75  # a note's share of each, as in the small dataset (1,500 per 2,000)


def _seminar(session) -> tuple[tuple, int]:
    """The Carr excerpt on the reading list of a group of ``MEMBERS``, the first its owner and
    the second its instructor (signed in), as ``Generator.run`` makes them."""
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
    return (gen, carr, group_id, members), members[1]


def _add_notes(session, rng, state, count: int) -> None:
    """``count`` more of the group's notes on the text, with their replies and reactions."""
    gen, carr, group_id, members = state
    gen.conn = session.connection()
    thread = generate.Thread(gen, rng, carr, group_id, members)
    thread.roots(count, Visibility.GROUP)
    thread.replies(int(count * REPLIES))
    thread.reactions(int(count * REACTIONS))
    thread.store()


def _timings(session, client, instructor, state):
    _gen, _carr, group_id, _members = state

    def service():
        dashboard.dashboard(session, instructor, group_id, generate.CARR)
        session.rollback()

    yield {"what": "dashboard service"}, service
    base = f"/groups/{group_id}/texts/{generate.CARR}"
    for name, path in (
        ("dashboard page", f"{base}/dashboard"),
        ("participation.csv", f"{base}/dashboard/participation.csv"),
        ("heatmap.svg", f"{base}/dashboard/heatmap.svg"),
        ("notes list", f"{base}/notes"),
    ):

        def page(path=path):
            assert client.get(path).status_code == 200

        yield {"what": name}, page


if __name__ == "__main__":
    growth.main(
        __doc__,
        "dashboard",
        "the dashboard's time over the library page's (GET /), same run, as an instructor",
        {"what": 20},
        _seminar,
        _add_notes,
        _timings,
    )
