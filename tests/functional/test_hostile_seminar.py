"""The seminar dashboard and adding a text, attacked: a member with a script, a removed member,
another group's instructor, odd bytes, races and floods. Each test is a finding or a door that
was tried and held."""

# Fixtures are taken from the suites of the features (imported, then named as parameters).
# ruff: noqa: F811

from __future__ import annotations

from sqlalchemy import select

from app.models import Text
from app.services.texts import adding
from tests.factories import SLUG, fresh
from tests.functional.test_add_text import PLAIN, post_form, save, upload
from tests.functional.test_add_text import teacher as ida  # noqa: F401 (a fixture)

# ---- adding a text --------------------------------------------------------------------------


def test_a_save_that_loses_the_race_for_a_url_name_never_revises_the_winners_text(
    ida, session, monkeypatch
):
    """Two saves of one URL name at once (PostgreSQL): both find it free, the first stores. The
    second must be refused, not turned into a new revision of the first's text (whose editor it
    would then become)."""
    preview = upload(ida, PLAIN, slug=SLUG)
    monkeypatch.setattr(adding, "_slug_problem", lambda _session, _slug: None)  # checked, free
    response = save(ida, preview, slug=SLUG)
    assert response.status_code == 409
    seed = fresh(session).scalar(select(Text).where(Text.slug == SLUG))
    assert len(seed.revisions) == 1 and seed.added_by_id is None
    assert seed.title != "The Week's Text"


def test_saving_parses_too_and_counts_against_the_per_minute_limit(ida, session):
    """Save parses the carried bytes again; a script posting saves (never previewing) with a
    megabyte the importer refuses would otherwise keep a worker parsing without any limit."""
    refused = {"csrf_token": ida.token, "step": "save", "source": "", "source_name": "x.txt"}
    statuses = [post_form(ida, refused).status_code for _ in range(adding.PREVIEWS_PER_MINUTE + 1)]
    assert statuses[:-1] == [422] * adding.PREVIEWS_PER_MINUTE
    assert statuses[-1] == 429
