"""DriverQuery: a read straight on the driver answers exactly as SQLAlchemy's execution does."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, column, func, select, table
from sqlalchemy.exc import DBAPIError

from app.database import DriverQuery
from app.models import Membership, Role, User
from app.services import annotation_pages, groups, live
from app.services.access import load_signed_in, load_viewer, viewer_for
from tests import factories
from tests.conftest import recorded_queries

# Every kind of column and parameter the hot reads have: booleans and enums that the driver
# gives as other types, a value the statement binds itself, a named parameter, a label.
MEMBERS = (
    select(
        User.id,
        User.is_admin,
        Membership.role,
        func.coalesce(Membership.group_id, 0).label("group"),
    )
    .outerjoin(Membership, Membership.user_id == User.id)
    .where(User.id == bindparam("user_id"))
    .order_by(Membership.group_id)
)


@pytest.fixture
def owner(session):
    user = factories.make_user(session, "owner@example.org", "Owner")
    groups.create(session, viewer_for(session, user), "Seminar")
    groups.create(session, viewer_for(session, user), "Reading group")
    session.commit()
    return user


def test_rows_are_what_a_core_execution_gives(engine, owner):
    with engine.connect() as connection:
        expected = connection.execute(MEMBERS, {"user_id": owner.id}).all()
    rows = DriverQuery(MEMBERS).all(engine, {"user_id": owner.id})
    assert len(rows) == 2 and rows == [tuple(row) for row in expected]
    assert rows[0].role is Role.OWNER and rows[0].is_admin is False
    assert [row._fields for row in rows] == [tuple(row._fields) for row in expected]
    assert DriverQuery(MEMBERS).all(engine, {"user_id": -1}) == []


def test_the_request_viewer_and_text_state_read_as_through_the_session(
    engine, session, owner, seeded
):
    on_driver, in_session = load_signed_in(engine, owner.id), load_viewer(session, owner.id)
    assert on_driver.cache_key == in_session.cache_key and len(on_driver.roles) == 2
    assert on_driver.group_names == in_session.group_names
    assert vars(on_driver.user) == vars(in_session.user)
    state = annotation_pages.text_state(engine, seeded.slug)
    assert (state.id, state.slug, state.revision_id) == (
        seeded.id,
        seeded.slug,
        seeded.current_revision_id,
    )
    assert state.cursor == live.latest_id(session, seeded.id)


def test_a_watched_engine_sees_the_statement(engine, owner):
    params = {"user_id": owner.id}
    with recorded_queries(engine) as statements:
        rows = DriverQuery(MEMBERS).all(engine, params)
    assert len(rows) == 2 and len(statements) == 1 and "membership" in statements[0]


def test_a_refused_read_raises_sqlalchemys_error(engine):
    with pytest.raises(DBAPIError):
        DriverQuery(select(table("no_such_table", column("x")))).all(engine, {})


def test_only_plain_parameters(engine):
    with pytest.raises(ValueError, match="plain parameters"):
        DriverQuery(select(User.id).where(User.id.in_([1, 2]))).all(engine, {})
