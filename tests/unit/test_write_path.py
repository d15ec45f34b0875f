"""The write path's plumbing: begin_write's lock and expiry, create's reads, the revision cache."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import database
from app.database import begin_write
from app.models import (
    Annotation,
    AnnotationTag,
    Motivation,
    Paragraph,
    Text,
    TextRevision,
    User,
)
from app.models.base import utcnow
from app.services import annotations, importer, revision_cache
from app.services.access import viewer_for
from app.services.annotations import Draft, SpanTarget, writing
from app.services.errors import NotFound, Refused
from tests import factories
from tests.conftest import SEED
from tests.factories import recorded_queries


@pytest.fixture
def sqlite_path(engine) -> str:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    return engine.url.database


def _try_to_write(path: str) -> bool:
    """Whether another connection can take the write lock right now (without waiting)."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()
    return True


def test_begin_write_after_a_read_holds_the_write_lock_until_commit(session, seeded, sqlite_path):
    session.scalar(select(User.id))  # a read transaction is open
    assert _try_to_write(sqlite_path)
    begin_write(session)
    assert not _try_to_write(sqlite_path)
    session.commit()
    assert _try_to_write(sqlite_path)


def test_begin_write_commits_pending_changes_first_and_still_holds_the_lock(session, sqlite_path):
    session.scalar(select(User.id))  # a read transaction is open
    session.add(User(email="pending@example.org", display_name="P", password_hash="x"))
    begin_write(session)
    assert not _try_to_write(sqlite_path)
    session.rollback()  # the pending user was committed before the write began
    assert session.scalar(select(User.id).where(User.email == "pending@example.org"))


def test_begin_write_expires_what_the_read_loaded_except_what_it_keeps(
    session, seeded, sqlite_path
):
    user = factories.make_user(session)
    other = factories.make_user(session)
    session.scalar(select(User).where(User.id.in_([user.id, other.id])))
    assert user.email and other.email  # loaded in this read transaction
    begin_write(session, keep=[user])
    assert "email" in inspect(user).dict
    assert "email" not in inspect(other).dict
    session.rollback()


def test_expire_on_commit_false_lasts_one_transaction(session, seeded):
    user = factories.make_user(session)
    begin_write(session, expire_on_commit=False)
    user.display_name = "Renamed"
    session.commit()
    assert "display_name" in inspect(user).dict  # kept, as committed
    begin_write(session)
    user.display_name = "Again"
    session.commit()
    assert "display_name" not in inspect(user).dict  # back to the default: expired
    begin_write(session, expire_on_commit=False)
    session.rollback()
    assert session.expire_on_commit


def _new_annotation(text, user) -> Annotation:
    now = utcnow()
    return Annotation(
        user_id=user.id,
        text_id=text.id,
        revision_id=text.current_revision_id,
        motivation=Motivation.COMMENTING,
        body_source="a note",
        body_html="<p>a note</p>",
        created_at=now,
        updated_at=now,
    )


def test_revision_cache_gives_the_revisions_content_and_spans(session, seeded):
    revision = seeded.current_revision
    layout = revision_cache.layout(session, revision)
    assert layout.content == revision.content
    assert [(s.paragraph.number, s.start, s.end) for s in layout.spans] == [
        (s.paragraph.number, s.start, s.end) for s in revision.spans()
    ]
    assert revision_cache.layout(session, revision) is layout


def test_revision_cache_is_keyed_on_the_content_hash_not_only_the_id(session, seeded):
    revision = seeded.current_revision
    before = revision_cache.layout(session, revision)
    # The same id naming other words (as after a delete and a new import on SQLite).
    session.execute(
        Paragraph.__table__.update()
        .where(Paragraph.revision_id == revision.id, Paragraph.number == 1)
        .values(body="Other words.")
    )
    session.execute(
        TextRevision.__table__.update()
        .where(TextRevision.id == revision.id)
        .values(content_hash="another")
    )
    session.expire_all()
    after = revision_cache.layout(session, session.get(TextRevision, revision.id))
    assert after.content.startswith("Other words.") and after is not before
    session.rollback()


def test_revision_cache_stays_within_its_bound(session, seeded, monkeypatch):
    monkeypatch.setattr(revision_cache, "MAX_CHARS", 10)
    revision_cache.clear()
    revision_cache.layout(session, seeded.current_revision)
    assert len(revision_cache._entries) == 1  # the newest stays even when over the bound
    fake = TextRevision(id=seeded.current_revision.id, content_hash="other")
    revision_cache.layout(session, fake)
    assert list(revision_cache._entries) == [(fake.id, "other")]
    revision_cache.clear()


def test_create_anchors_on_a_revision_that_arrived_before_the_write_began(
    session, seeded, tmp_path, engine, monkeypatch
):
    """The text is read before the write lock; a revision landing in between is noticed."""
    user = factories.make_user(session)
    viewer = viewer_for(session, user)
    quote = "Litvinov in Copenhagen"
    old_content = seeded.current_revision.content
    start = old_content.index(quote)
    revised = SEED.read_text(encoding="utf-8").replace("Rolls Royce", "Rolls-Royce motor car")
    path = tmp_path / SEED.name
    path.write_text(revised, encoding="utf-8")
    real_begin_write = writing.begin_write

    def import_first(*args, **kwargs):
        with Session(engine) as other:
            assert importer.import_file(other, path).status == "revised"
            other.commit()
        return real_begin_write(*args, **kwargs)

    monkeypatch.setattr(writing, "begin_write", import_first)
    draft = Draft(
        text_slug=seeded.slug,
        motivation=Motivation.HIGHLIGHTING,
        target=SpanTarget(exact=quote, start=start, end=start + len(quote)),
    )
    annotation = annotations.create(session, viewer, draft)
    session.commit()
    new_revision = session.scalar(
        select(TextRevision).where(TextRevision.text_id == seeded.id, TextRevision.number == 2)
    )
    assert annotation.revision_id == new_revision.id
    content = revision_cache.layout(session, new_revision).content
    assert annotation.start != start  # the words moved
    assert content[annotation.start : annotation.end] == quote


def test_create_leaves_the_annotation_and_its_tags_loaded_as_stored(engine, session, seeded):
    user = factories.make_user(session)
    annotation = factories.make_annotation(
        session, user, seeded, "Krasin", body="*Krasin*", tags=("Trade", "arcos")
    )
    with recorded_queries(engine) as statements:
        names = annotation.tag_names
        text_slug = annotation.text.slug
        spans = annotations.paragraph_spans(session, annotation)
    assert statements == []
    assert names == ["arcos", "trade"] and text_slug == seeded.slug and spans
    with Session(engine) as fresh:
        stored = fresh.get(Annotation, annotation.id)
        assert stored.tag_names == names
        assert (stored.created_at, stored.body_html) == (
            annotation.created_at,
            annotation.body_html,
        )
        rows = fresh.scalars(select(AnnotationTag).where(AnnotationTag.annotation_id == stored.id))
        assert sorted(t.id for t in rows) == sorted(t.id for t in annotation.tags)


class _LockHolder(threading.Thread):
    """Another connection that takes the write lock now and lets it go after ``seconds``;
    ``releasing`` is set just before it does, so a writer that got in must have waited."""

    def __init__(self, path: str, seconds: float):
        super().__init__()
        self.other = sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
        self.other.execute("BEGIN IMMEDIATE")
        self.seconds = seconds
        self.releasing = threading.Event()
        self.start()

    def run(self) -> None:
        threading.Event().wait(self.seconds)
        self.releasing.set()
        self.other.execute("COMMIT")
        self.other.close()


def _busy_timeout(session) -> int:
    return session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar()


def test_begin_write_waits_for_the_lock_in_short_naps(session, seeded, sqlite_path, monkeypatch):
    """Not in SQLite's busy handler, which sleeps up to 100 ms at a time while the lock is free
    again after half a millisecond."""
    naps: list[float] = []
    sleep = time.sleep
    monkeypatch.setattr(time, "sleep", lambda seconds: naps.append(seconds) or sleep(seconds))
    session.scalar(select(User.id))  # a read transaction is open
    holder = _LockHolder(sqlite_path, 0.1)
    begin_write(session)
    assert holder.releasing.is_set()  # it got the lock only once the holder let go
    holder.join()
    assert naps and max(naps) <= max(database.LOCK_NAPS)
    assert not _try_to_write(sqlite_path)
    assert _busy_timeout(session) == database.BUSY_TIMEOUT_MS  # on again for other statements
    session.rollback()


def test_begin_write_gives_up_with_sqlites_error_past_the_busy_timeout(
    session, seeded, sqlite_path, monkeypatch
):
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 100)
    holder = _LockHolder(sqlite_path, 0.5)
    # SQLAlchemy's error, as a statement's would be: the error pages answer it with a 503.
    with pytest.raises(OperationalError, match="database is locked"):
        begin_write(session)
    holder.join()
    session.rollback()
    assert _busy_timeout(session) == 100


def test_create_refuses_a_text_gone_since_the_session_last_read_it(engine, session, seeded):
    """A text renamed (or deleted) by another process: the write looks it up again."""
    user = factories.make_user(session)
    factories.make_annotation(session, user, seeded, "Krasin", body="first")
    slug = seeded.slug
    with Session(engine) as other:
        other.execute(Text.__table__.update().where(Text.id == seeded.id).values(slug="renamed"))
        other.commit()
    draft = Draft(text_slug=slug, body="second")
    with pytest.raises(NotFound, match="There is no text"):
        annotations.create(session, viewer_for(session, user), draft)
    session.rollback()


def test_create_anchors_words_only_a_newer_revision_has(session, seeded, tmp_path, engine):
    """Words the text has only since another process revised it are found, not refused."""
    user = factories.make_user(session)
    factories.make_annotation(session, user, seeded, "Krasin", body="first")  # remembered
    words = "Rolls-Royce motor car"
    path = tmp_path / SEED.name
    path.write_text(
        SEED.read_text(encoding="utf-8").replace("Rolls Royce", words), encoding="utf-8"
    )
    with Session(engine) as other:
        assert importer.import_file(other, path).status == "revised"
        other.commit()
        content = other.get(Text, seeded.id).current_revision.content
    start = content.index(words)
    draft = Draft(
        text_slug=seeded.slug,
        motivation=Motivation.HIGHLIGHTING,
        target=SpanTarget(exact=words, start=start, end=start + len(words)),
    )
    annotation = annotations.create(session, viewer_for(session, user), draft)
    session.commit()
    assert (annotation.start, annotation.end) == (start, start + len(words))
    assert annotation.revision.number == 2


def test_revision_cache_keeps_nothing_for_a_revision_that_is_not_there(session, seeded):
    revision_cache.clear()
    with pytest.raises(LookupError):
        revision_cache.layout_of(session, 999_999, seeded.current_revision.content_hash)
    assert revision_cache._entries == {}


def test_a_quote_not_in_the_text_is_refused_without_waiting_for_the_write_lock(
    session, seeded, sqlite_path, monkeypatch
):
    """Anchoring happens before the lock: words the text lacks never queue every writer."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 2_000)
    viewer = viewer_for(session, factories.make_user(session))
    draft = Draft(
        text_slug=seeded.slug, body="x", target=SpanTarget(exact="a Bolshevik submarine race")
    )
    holder = _LockHolder(sqlite_path, 1.5)
    try:
        with pytest.raises(Refused, match="not in this text"):
            annotations.create(session, viewer, draft)
        assert not holder.releasing.is_set()  # refused at once, not after the lock came free
    finally:
        holder.join()
        session.rollback()
