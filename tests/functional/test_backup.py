"""Backups: taken while writes go on, checked, and restored to exactly what they hold."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Annotation
from app.services.access import viewer_for
from tests import factories


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL is backed up with pg_dump (README); the command says so")


def _count(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count(Annotation.id)))


def test_round_trip_under_write_load(sqlite_only, engine, session, seeded, runner, tmp_path):
    user = factories.make_user(session)
    stop = threading.Event()
    written = []

    def write_notes():
        with Session(engine) as s:
            author = viewer_for(s, s.merge(user))
            n = 0
            while not stop.is_set():
                from app.services import annotations

                draft = annotations.Draft(text_slug="carr-rapprochement", body=f"note {n}")
                annotations.create(s, author, draft)
                s.commit()
                written.append(n)
                n += 1

    writer = threading.Thread(target=write_notes)
    writer.start()
    try:
        while len(written) < 20:
            time.sleep(0.02)
        target = tmp_path / "backups" / "scholia.sqlite3"
        result = runner.invoke(args=["backup", str(target)])
        assert result.exit_code == 0, result.output
        assert "integrity checked" in result.output
        time.sleep(0.2)  # the writer carries on after the backup
    finally:
        stop.set()
        writer.join(timeout=30)
    after_load = _count(engine)
    restored = runner.invoke(args=["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    in_backup = _count(engine)
    assert 20 <= in_backup < after_load  # a consistent snapshot from mid-load
    bodies = {b for (b,) in Session(engine).execute(select(Annotation.body_source))}
    assert bodies == {f"note {n}" for n in range(in_backup)}  # a prefix, nothing torn


def test_backup_refuses_to_overwrite_and_restore_refuses_junk(sqlite_only, runner, tmp_path):
    existing = tmp_path / "there.sqlite3"
    existing.write_text("certainly not a database " * 100)
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code != 0 and "already exists" in result.output
    junk = runner.invoke(args=["restore", str(existing), "--yes"])
    assert junk.exit_code != 0 and "not an SQLite database" in junk.output
    missing = runner.invoke(args=["restore", str(tmp_path / "nope"), "--yes"])
    assert missing.exit_code != 0 and "no such file" in missing.output


def test_backup_on_postgresql_points_to_pg_dump(database_url, runner, tmp_path):
    if database_url.startswith("sqlite"):
        pytest.skip("only PostgreSQL refuses")
    result = runner.invoke(args=["backup", str(tmp_path / "b")])
    assert result.exit_code != 0 and "pg_dump" in result.output
