"""How a search's cost grows with the annotations it searches: 1,000, then 10,000.

    .venv/bin/python -m bench.search                     # SQLite, in a temporary folder
    .venv/bin/python -m bench.search --postgres URL      # PostgreSQL too (a schema of its own)

A fresh database is migrated, the Carr excerpt seeded, and annotations by twenty readers bulk
inserted (half for one group, a third public, the rest private; words from bench/generate.py):
the migration's triggers index them as any write would. Then, in process through Flask's test
client and the service itself, each query is timed (median of ``--rounds``) against a baseline
taken in turn with it: the library page (``GET /``) for the same signed-in member. **ratio** is
a search's time over the baseline's, so the figures travel between machines; **growth** is the
ratio at 10,000 over the ratio at 1,000 (10 would be linear in the annotations; 1, no growth).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select

from app.models import Annotation, AnnotationTag, Group, Membership, Role, Text, User
from app.services import importer, search
from bench import growth
from bench.generate import TAGS, note_body, render
from bench.growth import SEED

READERS = 20
# A word in many notes, one in few, words with a filter, and the page as a reader sees it.
QUERIES = {
    "common word": {"q": "important"},
    "word in 1 note in 20": {"q": "zemstvo"},
    "two words": {"q": "argument evidence"},
    "common word, group": {"q": "important", "group": "GROUP"},
    "common word, tag": {"q": "important", "tag": TAGS[0]},
}


def _setup(session) -> tuple[tuple[int, int, list[int]], int]:
    """The text, a group and its readers; the second reader signed in."""
    text_ = importer.import_file(session, SEED).text
    now = datetime.now(UTC)
    users = [
        User(email=f"reader{n}@example.org", display_name=f"Reader {n}", password_hash="!")  # noqa: S106
        for n in range(READERS)
    ]
    session.add_all(users)
    session.flush()
    group = Group(name="Seminar", invite_code=uuid.uuid4().hex)
    session.add(group)
    session.flush()
    session.add_all(
        Membership(group_id=group.id, user_id=u.id, role=Role.MEMBER, joined_at=now) for u in users
    )
    session.commit()
    return (text_.id, group.id, [u.id for u in users]), users[1].id


def _add_annotations(session, rng, state, count: int) -> None:
    text_id, group_id, user_ids = state
    revision = session.scalar(select(Text.current_revision_id).where(Text.id == text_id))
    now = datetime.now(UTC)
    rows = []
    for _ in range(count):
        body = note_body(rng, question=rng.random() < 0.1)
        if rng.random() < 0.05:
            body += " The zemstvo again."
        audience = rng.random()
        visibility = "group" if audience < 0.5 else "public" if audience < 0.83 else "private"
        rows.append(
            {
                "user_id": rng.choice(user_ids),
                "text_id": text_id,
                "revision_id": revision,
                "motivation": "commenting",
                "visibility": visibility,
                "group_id": group_id if visibility == "group" else None,
                "body_source": body,
                "body_html": render(body),
                "created_at": now,
                "updated_at": now,
            }
        )
    ids = session.scalars(insert(Annotation).returning(Annotation.id), rows).all()
    tagged = [{"annotation_id": i, "name": rng.choice(TAGS)} for i in ids if rng.random() < 0.3]
    if tagged:
        session.execute(insert(AnnotationTag), tagged)
    session.commit()


def _timings(session, client, member, state):
    _text_id, group_id, _ = state
    for name, args in QUERIES.items():
        args = {k: str(group_id) if v == "GROUP" else v for k, v in args.items()}

        def service(args=args):
            search.search(session, member, search.parse(args, member))
            session.rollback()

        def page(args=args):
            assert client.get("/search", query_string=args).status_code == 200

        for way, run in (("service, member", service), ("page, member", page)):
            yield {"query": name, "way": way}, run


if __name__ == "__main__":
    growth.main(
        __doc__,
        "search",
        "search time over the library page's (GET /), same run",
        {"query": 22, "way": 16},
        _setup,
        _add_annotations,
        _timings,
    )
