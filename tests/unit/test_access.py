"""The access policy as a matrix: every viewer against every action, and the query agrees."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Annotation
from app.models.base import utcnow
from app.services.access import ANONYMOUS, Action, can, viewer_for, visible_to
from tests import factories

VIEWERS = ["author", "other reader", "site admin", "anonymous", "author, disabled"]


@pytest.fixture
def world(session, seeded):
    author = factories.make_user(session, "author@example.org")
    people = {
        "author": author,
        "other reader": factories.make_user(session, "other@example.org"),
        "site admin": factories.make_user(session, "admin@example.org", is_admin=True),
        "anonymous": None,
    }
    live = factories.make_annotation(session, author, seeded, "Krasin", body="private thought")
    deleted = factories.make_annotation(session, author, seeded, "Arcos", body="gone")
    deleted.deleted_at = utcnow()
    session.commit()
    return people, live, deleted


EXPECTED = {
    # viewer: (may view/edit/delete the live note, may restore the deleted one)
    "author": (True, True),
    "other reader": (False, False),
    "site admin": (False, False),
    "anonymous": (False, False),
    "author, disabled": (False, False),
}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_private_annotation_matrix(session, world, viewer):
    people, live, deleted = world
    if viewer == "author, disabled":
        user = people["author"]
        user.is_disabled = True
        session.commit()
    else:
        user = people[viewer]
    acting = viewer_for(session, user) if user is not None else ANONYMOUS
    may_use, may_restore = EXPECTED[viewer]
    for action in (Action.VIEW, Action.EDIT, Action.DELETE):
        assert can(acting, action, live) is may_use, action
        assert can(acting, action, deleted) is False, action
    assert can(acting, Action.RESTORE, deleted) is may_restore
    assert can(acting, Action.RESTORE, live) is False
    listed = set(session.scalars(select(Annotation.id).where(visible_to(acting))))
    assert listed == ({live.id} if may_use else set())
