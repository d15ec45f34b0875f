"""Migrations keep every row: down to the last release's schema and up again, with data in it.

On SQLite, altering a table copies it and drops the old one; with foreign keys on, dropping
``annotation`` once took every reply, tag, version, reaction and flag with it. Here a database
full of what a seminar writes goes down and up again, and each table must hold the same rows.
"""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    Annotation,
    AnnotationTag,
    AnnotationVersion,
    Event,
    Flag,
    IdempotencyKey,
    Membership,
    Notification,
    NotificationKind,
    Reaction,
    ReactionKind,
    User,
)
from app.services import annotations, discussion, groups, importer, moderation, search
from app.services.access import viewer_for
from tests import factories
from tests.conftest import SEED, make_test_app

# The schema before this round's migrations (0006 sessions, 0007 moderation).
EARLIER = "0005"
COUNTED = [
    User,
    Membership,
    Annotation,
    AnnotationTag,
    AnnotationVersion,
    Reaction,
    Flag,
    Notification,
    Event,
    IdempotencyKey,
]


@pytest.fixture
def scratch_url(database_url, tmp_path):
    """A database of this test's own: a SQLite file, or a PostgreSQL schema dropped after."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    schema = f"migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in database_url else "?"
    yield f"{database_url}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _seminar(session: Session) -> None:
    """A little of everything a seminar writes, through the services."""
    text_ = importer.import_file(session, SEED).text
    session.commit()
    ann = factories.make_user(session, "ann@example.org", "Ann")
    ben = factories.make_user(session, "ben@example.org", "Ben")
    group = groups.create(session, viewer_for(session, ann), "Seminar")
    session.commit()
    groups.join(session, viewer_for(session, ben), group.invite_code)
    session.commit()
    note = factories.make_annotation(
        session, ann, text_, "Krasin", body="@Ben look", tags=("nep",), group=group
    )
    annotations.edit(session, viewer_for(session, ann), note.id, annotations.Changes(body="v2"))
    answer = discussion.reply(session, viewer_for(session, ben), note.id, "Answer")
    discussion.reply(session, viewer_for(session, ann), answer.id, "Answer to the answer")
    discussion.react(session, viewer_for(session, ben), note.id, ReactionKind.AGREE, True)
    moderation.flag(session, viewer_for(session, ben), note.id, "Look at this")
    session.commit()
    draft = annotations.Draft(text_slug=text_.slug, body="once")
    reader = viewer_for(session, ben)
    annotations.once(session, reader, "retry-1", lambda: annotations.create(session, reader, draft))
    session.commit()


def _counts(session: Session) -> dict[str, int]:
    counts = {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in COUNTED
    }
    # A flag's notice (0009) is newer than the release, whose code cannot read its kind: going
    # down drops it (the flag itself stays). Every other notice is kept.
    flag_notices = select(func.count()).where(Notification.kind == NotificationKind.FLAG)
    counts["notification"] -= session.scalar(flag_notices)
    return counts


def test_down_to_the_last_release_and_up_again_keeps_every_row(scratch_url, tmp_path):
    app = make_test_app(scratch_url, tmp_path)
    with app.app_context():
        upgrade()
        with Session(db.engine) as session:
            _seminar(session)
            before = _counts(session)
        assert all(before.values()), before
        downgrade(revision=EARLIER)
        upgrade()
        with Session(db.engine) as session:
            assert _counts(session) == before
            replies = session.scalars(select(Annotation).where(Annotation.root_id.is_not(None)))
            assert sorted(r.body_source for r in replies) == ["Answer", "Answer to the answer"]
            _search_still_follows(session)
        db.engine.dispose()


def _search_still_follows(session: Session) -> None:
    """The search index came back with the rows, and follows the writes made after: on SQLite
    its triggers are remade after every run of migrations (app/search_index.py)."""
    ann = session.scalar(select(User).where(User.email == "ann@example.org"))
    reader = viewer_for(session, ann)

    def found(words: str) -> set[int]:
        query = search.parse({"q": words, "kind": "reply"}, reader)
        return {hit.annotation.id for hit in search.search(session, reader, query).hits}

    assert len(found("answer")) == 2
    (first, _) = sorted(found("answer"))
    discussion_reply = discussion.reply(session, reader, first, "Samovar")
    session.commit()
    assert found("samovar") == {discussion_reply.id}


def test_reactions_to_ones_own_notes_go_and_the_others_stay(scratch_url, tmp_path):
    """Readers no longer react to their own notes (nor could take such a reaction back): 0009
    removes the ones made before, and nothing else."""
    app = make_test_app(scratch_url, tmp_path)
    with app.app_context():
        upgrade()
        with Session(db.engine) as session:
            _seminar(session)  # Ben agrees with Ann's note
            ann = session.scalar(select(Reaction.annotation_id))
            author = session.scalar(select(Annotation.user_id).where(Annotation.id == ann))
            session.add(Reaction(annotation_id=ann, user_id=author, kind=ReactionKind.QUESTION))
            session.commit()
        downgrade(revision="0008")
        upgrade()
        with Session(db.engine) as session:
            kept = session.execute(select(Reaction.user_id, Reaction.kind)).all()
            assert len(kept) == 1 and kept[0][0] != author
        db.engine.dispose()


# The search index (0014) is no model: on SQLite an FTS5 virtual table with the shadow tables
# FTS5 makes for it (_data, _idx, _content, _docsize, _config), on PostgreSQL a table and a GIN
# expression index kept by triggers. app/services/search.py reads them through ``table()``.
SEARCH_INDEX = ("paragraph_search", "annotation_search", "ix_paragraph_search")


def _not_the_search_index(obj, name, type_, reflected, compare_to) -> bool:
    table = obj.table.name if type_ == "index" else name
    return not (name or "").startswith(SEARCH_INDEX) and not table.startswith(SEARCH_INDEX)


def test_the_models_match_the_migrations(scratch_url, tmp_path):
    app = make_test_app(scratch_url, tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": _not_the_search_index}
            )
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()
