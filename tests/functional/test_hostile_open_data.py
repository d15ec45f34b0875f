"""Issue 18's open-data features attacked as a hostile reader would: an import that names dates
no calendar holds, claims a thread by another's ``via``, or plants a group's paragraph thread."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Annotation
from tests import factories
from tests.functional.test_import import QUOTE, api_import, collection, note, page_import


@pytest.fixture
def ada(app, session, seeded):
    return factories.sign_in(app, session, "Ada")


def stored(session, **where) -> list[Annotation]:
    query = select(Annotation).filter_by(**where).order_by(Annotation.id)
    return list(factories.fresh(session).scalars(query))


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+00:45"]
)
def test_a_date_past_the_calendars_ends_in_a_file_is_not_a_server_error(ada, session, when):
    response = api_import(ada, collection({**note(1, QUOTE, "Dated oddly"), "created": when}))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["counts"]["imported"] == 1
    page = page_import(ada, collection({**note(2, QUOTE, "Dated oddly"), "modified": when}))
    assert page.status_code == 200
    assert [a.body_source for a in stored(session)] == ["Dated oddly", "Dated oddly"]
