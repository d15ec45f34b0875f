"""Parallel requests take turns, on SQLite and PostgreSQL alike: an account's creates against its
quota, a thread's move against a hide or a reply written meanwhile.

Each test starts one write, leaves it uncommitted, starts the other in a second thread and
session, then commits the first: the second must judge what the first wrote. (The pause before
the commit only orders the two: however far the second got, it must see the first.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import Annotation, Visibility
from app.services import annotations, discussion, groups, moderation
from app.services.access import viewer_for
from app.services.errors import QuotaExceeded, Refused
from app.services.quotas import WriteLimits
from tests import factories


def race(engine, first: Callable[[Session], object], second: Callable[[Session], object]):
    """Run ``first`` up to its commit, ``second`` meanwhile; what ``second`` raised, or None."""
    one, two = Session(engine), Session(engine)
    outcome: list[BaseException | None] = []

    def parallel() -> None:
        try:
            second(two)
            two.commit()
            outcome.append(None)
        except BaseException as error:  # reported to the test
            two.rollback()
            outcome.append(error)

    try:
        first(one)
        one.flush()
        worker = threading.Thread(target=parallel)
        worker.start()
        time.sleep(0.3)
        one.commit()
        worker.join(timeout=30)
    finally:
        one.close()
        two.close()
    assert len(outcome) == 1, "the second request never finished"
    return outcome[0]


def test_a_parallel_create_is_counted_after_the_one_before_it(engine, session, seeded):
    user = factories.make_user(session)
    limited = replace(viewer_for(session, user), limits=WriteLimits(per_minute=1, per_day=0))
    draft = annotations.Draft(text_slug=seeded.slug, body="words")

    def create(on: Session):
        return annotations.create(on, limited, draft)

    assert isinstance(race(engine, create, create), QuotaExceeded)
    session.rollback()  # a snapshot of now
    stored = session.scalar(select(func.count()).where(Annotation.user_id == user.id))
    assert stored == 1


@pytest.fixture
def thread(session, seeded):
    """Ann's seminar, with a group note by Ben in it; Ben owns a group of his own."""
    ann, ben = factories.make_user(session), factories.make_user(session)
    seminar = groups.create(session, viewer_for(session, ann), "Seminar")
    own = groups.create(session, viewer_for(session, ben), "Ben's")
    session.commit()
    groups.join(session, viewer_for(session, ben), seminar.invite_code)
    session.commit()
    note = factories.make_annotation(session, ben, seeded, "Krasin", body="Ben's", group=seminar)
    return {"ann": ann, "ben": ben, "note": note.id, "own": own.id, "seminar": seminar.id}


def test_a_move_waits_for_a_hide_and_is_then_refused(engine, session, thread):
    def hide(on: Session):
        moderation.set_hidden(on, viewer_for(on, thread["ann"]), thread["note"], True)

    def move(on: Session):
        mover = viewer_for(on, thread["ben"])
        annotations.set_visibility(on, mover, thread["note"], Visibility.PUBLIC)

    refused = race(engine, hide, move)
    assert isinstance(refused, Refused) and "hidden" in str(refused)
    session.rollback()
    stored = session.get(Annotation, thread["note"])
    assert (stored.visibility, stored.hidden_at is not None) == (Visibility.GROUP, True)


def test_a_reply_written_during_a_move_joins_the_thread_where_it_went(engine, session, thread):
    def move(on: Session):
        mover = viewer_for(on, thread["ben"])
        annotations.set_visibility(on, mover, thread["note"], Visibility.GROUP, thread["own"])

    def reply(on: Session):
        discussion.reply(on, viewer_for(on, thread["ben"]), thread["note"], "Mine, meanwhile")

    assert race(engine, move, reply) is None
    session.rollback()
    audiences = session.execute(
        select(Annotation.visibility, Annotation.group_id).where(
            (Annotation.id == thread["note"]) | (Annotation.root_id == thread["note"])
        )
    ).all()
    assert set(audiences) == {(Visibility.GROUP, thread["own"])}, audiences


def test_a_move_waits_for_someone_elses_reply_and_is_then_refused(engine, session, thread):
    def reply(on: Session):
        discussion.reply(on, viewer_for(on, thread["ann"]), thread["note"], "The owner's")

    def move(on: Session):
        mover = viewer_for(on, thread["ben"])
        annotations.set_visibility(on, mover, thread["note"], Visibility.PUBLIC)

    refused = race(engine, reply, move)
    assert isinstance(refused, Refused) and "Others have replied" in str(refused)


@pytest.mark.parametrize("per_minute, per_day", [(0, 0), (5, 0), (0, 5)])
def test_a_quota_of_zero_is_no_limit(session, seeded, per_minute, per_day):
    user = factories.make_user(session)
    limited = replace(viewer_for(session, user), limits=WriteLimits(per_minute, per_day))
    draft = annotations.Draft(text_slug=seeded.slug, body="words")
    for _ in range(5):
        annotations.create(session, limited, draft)
        session.commit()
    if per_minute or per_day:
        with pytest.raises(QuotaExceeded):
            annotations.create(session, limited, draft)
    else:
        annotations.create(session, limited, draft)
    session.rollback()


def test_a_readers_quota_lock_does_not_hold_up_a_reply_that_notifies_them(engine, session, seeded):
    """PostgreSQL: while Ann's write holds her account's quota lock, Ben's reply to Ann's note
    (whose notice refers to Ann's row) goes through at once. Under a plain FOR UPDATE it waited,
    and when Ann's write went on to notify Ben, whose own lock Ben held, the two deadlocked."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite's one write lock serialises writes")
    ann, ben = factories.make_user(session), factories.make_user(session)
    note = factories.make_annotation(
        session, ann, seeded, "Krasin", body="Ann's", visibility=Visibility.PUBLIC
    )
    limited = WriteLimits(per_minute=100, per_day=0)
    ann_viewer = replace(viewer_for(session, ann), limits=limited)
    ben_viewer = replace(viewer_for(session, ben), limits=limited)
    note_id = note.id
    session.commit()
    holding = Session(engine)
    try:
        annotations.create(  # Ann's write, holding her quota lock, not yet committed
            holding, ann_viewer, annotations.Draft(text_slug=seeded.slug, body="Still writing")
        )
        with Session(engine) as replying:
            replying.execute(text("SET LOCAL lock_timeout = '3s'"))
            discussion.reply(replying, ben_viewer, note_id, "Ben answers")
            replying.commit()  # no lock timeout: nothing waited for Ann's transaction
    finally:
        holding.rollback()
        holding.close()
