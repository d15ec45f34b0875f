"""Fixtures: the real app factory on a real database, nothing mocked (as in Flask's tutorial).

The database is SQLite in a temporary folder, or PostgreSQL when ``SCHOLIA_TEST_DATABASE_URL``
names one. ``SCHOLIA_REQUIRE_POSTGRES=1`` (set by CI) turns a missing URL into a failure, so a
PostgreSQL run can never quietly test SQLite instead. Migrations run once per session; every test
starts from empty tables.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask_migrate import upgrade
from hypothesis import settings
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from app import create_app
from app.config import normalise_database_url
from app.extensions import db
from app.services import previews
from tests import factories
from tests.factories import AuthActions

SEED = Path(__file__).resolve().parent.parent / "seeds" / "carr-rapprochement.txt"
TEST_PASSWORD = factories.DEFAULT_PASSWORD
# Tests sign in thousands of times: scrypt would cost the suite minutes. Production's method has
# a test of its own (test_auth.py).
CHEAP_PASSWORD_METHOD = "pbkdf2:sha256:1"


# How hard the property tests look (the access state machine above all, about a minute of a core
# in "ci", 25 runs of 30 steps): HYPOTHESIS_PROFILE=quick while working on something,
# =thorough for a long hunt (run it after changing the access policy or a read path).
settings.register_profile("ci", max_examples=25, deadline=None)
settings.register_profile("quick", max_examples=10, deadline=None)
settings.register_profile("thorough", max_examples=400, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _required(name: str) -> bool:
    return os.environ.get(name, "").strip() not in {"", "0", "false", "no"}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("SCHOLIA_TEST_DATABASE_URL", "").strip()
    if url:
        return _database_of_this_worker(normalise_database_url(url))
    if _required("SCHOLIA_REQUIRE_POSTGRES"):
        pytest.fail("SCHOLIA_REQUIRE_POSTGRES is set but SCHOLIA_TEST_DATABASE_URL is not")
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def _database_of_this_worker(url: str) -> str:
    """Each pytest-xdist worker gets a PostgreSQL database of its own beside the named one
    (created on first use; the role needs CREATEDB), so parallel tests never share tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return database_beside(url, worker) if worker else url


def database_beside(url: str, suffix: str) -> str:
    """The PostgreSQL database named as ``url``'s with ``_suffix``, created on first use."""
    base = make_url(url)
    name = f"{base.database}_{suffix}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def make_test_app(database_url: str, instance_path: Path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SEEDS_DIR": str(SEED.parent),
        "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_METHOD,
        # Live pages ask for changes more often than the 2.5 s readers get: the browser tests
        # wait for each change a poll at most, and they wait for many.
        "LIVE_POLL_MS": 500,
    }
    config.update(overrides)
    app = create_app(config)
    app.instance_path = str(instance_path)
    return app


@pytest.fixture(scope="session")
def migrated_database(database_url, tmp_path_factory) -> str:
    """Build the schema once, through the migrations, exactly as a deployment would."""
    migrate_from_nothing(make_test_app(database_url, tmp_path_factory.mktemp("instance")))
    return database_url


def migrate_from_nothing(app) -> None:
    """Empty the app's database and build the schema through every migration."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()


def _empty_all_tables() -> None:
    with db.engine.begin() as conn:
        # A chain of replies deleted through its cascade would recurse once per reply, past
        # SQLite's trigger depth: unlink the threads first.
        conn.execute(text("UPDATE annotation SET parent_id = NULL, root_id = NULL"))
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def app(migrated_database, tmp_path):
    app = make_test_app(migrated_database, tmp_path)
    with app.app_context():
        _empty_all_tables()
    # The preview rate is counted per user id in the process, and ids come again once the
    # tables are emptied: a test that previewed a lot (the API fuzzing) must not hold back the
    # next test's reader.
    previews._recent.clear()
    yield app
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def engine(app):
    with app.app_context():
        return db.engine


@pytest.fixture
def session(engine):
    """A session of the test's own, as services receive one.

    Deliberately not the app's scoped session inside a pushed app context: requests made by the
    test client while a context is pushed would share it (and ``g``), hiding bugs that real,
    separate requests would show.
    """
    with Session(engine) as session:
        yield session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def seeded(session):
    """The Carr excerpt, imported as `flask seed` would."""
    from app.services import importer

    result = importer.import_file(session, SEED)
    session.commit()
    return result.text


@pytest.fixture
def ada(app, session, seeded):
    """A signed-in reader of the seeded text, for the API's tests."""
    from tests import factories

    return factories.sign_in(app, session, "Ada")
