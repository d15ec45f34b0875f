"""A full disk and a read-only database: writes answer 503, reads go on, nothing is damaged.

The disk-full cases put the database on a tiny tmpfs and fill it, so they need root (CI runs
as root; ``SCHOLIA_REQUIRE_FAULT_TESTS=1`` there turns a skip into a failure).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from app.models import Annotation
from app.services import importer
from app.services.access import viewer_for
from tests import factories
from tests.conftest import SEED, _required, make_test_app
from tests.factories import AuthActions, csrf_token

PAGE = "/texts/carr-rapprochement"
pytestmark = pytest.mark.slow


@contextlib.contextmanager
def tiny_disk(where: Path, size: str = "4m"):
    """A tmpfs of ``size`` mounted at ``where`` for the duration."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        if _required("SCHOLIA_REQUIRE_FAULT_TESTS"):
            pytest.fail("disk-full tests need root to mount a tmpfs")
        pytest.skip("disk-full tests need root to mount a tmpfs")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Write a filler file until the disk refuses; delete it to make room again."""
    filler = disk / "filler"
    # Unbuffered, and the refusal suppressed outside the file: a buffered close would try the
    # refused bytes again and raise past a suppress inside it.
    with contextlib.suppress(OSError), open(filler, "wb", buffering=0) as handle:
        while True:
            handle.write(b"\0" * 65536)
            os.fsync(handle.fileno())
    with contextlib.suppress(OSError), open(filler, "ab", buffering=0) as handle:
        while True:  # the last few bytes too
            handle.write(b"\0")
    return filler


def _note_payload(content: str, quote: str, body: str) -> dict:
    start = content.index(quote)
    return {
        "type": "Annotation",
        "body": [{"type": "TextualBody", "value": body}],
        "target": {
            "source": "http://localhost/texts/carr-rapprochement",
            "selector": [
                {"type": "TextPositionSelector", "start": start, "end": start + len(quote)}
            ],
        },
    }


def _prepare_sqlite(path: Path) -> int:
    """A migrated, seeded database with one reader and one note; returns the note's id."""
    url = f"sqlite:///{path}"
    app = make_test_app(url, path.parent / "instance")
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
    engine = create_engine(url)
    with Session(engine) as session:
        text = importer.import_file(session, SEED).text
        session.commit()
        user = factories.make_user(session, "reader@example.org", "Reader")
        note = factories.make_annotation(session, user, text, "Krasin", body="stored before")
        note_id = note.id
    engine.dispose()
    return note_id


def test_sqlite_disk_full(tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite file case; PostgreSQL has its own below")
    with tiny_disk(tmp_path / "disk") as disk:
        path = disk / "scholia.sqlite3"
        note_id = _prepare_sqlite(path)
        app = make_test_app(f"sqlite:///{path}", tmp_path / "instance")
        writer, reader = app.test_client(), app.test_client()
        assert AuthActions(writer).login().status_code == 302
        token = csrf_token(writer, PAGE)
        content = writer.get("/api/v1/texts/carr-rapprochement").get_json()["content"]
        filler = fill(disk)
        refused = []
        for n in range(20):  # SQLite may have a few free pages left; it soon runs out
            response = writer.post(
                "/api/v1/annotations",
                json=_note_payload(content, "Arcos", f"note {n} " + "x" * 15_000),
                headers={"X-CSRFToken": token},
            )
            if response.status_code == 503:
                refused.append(response.get_json())
                break
            assert response.status_code == 201, response.get_json()
        assert refused, "the full disk never refused a write"
        assert "disk is full" in refused[0]["detail"]
        # Reads go on: the page, the API, another visitor.
        assert reader.get(PAGE).status_code == 200
        assert writer.get(f"/api/v1/annotations/{note_id}").get_json()["body"][0]["value"] == (
            "stored before"
        )
        filler.unlink()  # room again: writes work, and nothing was damaged
        again = writer.post(
            "/api/v1/annotations",
            json=_note_payload(content, "Rapallo", "after the disk was freed"),
            headers={"X-CSRFToken": token},
        )
        assert again.status_code == 201
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()
        with contextlib.closing(sqlite3.connect(path)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            bodies = [b for (b,) in conn.execute("SELECT body_source FROM annotation")]
        assert "stored before" in bodies and "after the disk was freed" in bodies


def test_postgresql_read_only(database_url, app, session, seeded, tmp_path):
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's read-only transactions; SQLite's case is in the functional tests")
    user = factories.make_user(session, "reader@example.org", "Reader")
    note = factories.make_annotation(session, user, seeded, "Krasin", body="stored before")
    read_only = make_test_app(
        database_url,
        tmp_path / "ro",
        SQLALCHEMY_ENGINE_OPTIONS={
            "connect_args": {"options": "-c default_transaction_read_only=on"}
        },
    )
    client = read_only.test_client()
    refused = AuthActions(client).login()  # a sign-in records the attempt: a write
    assert refused.status_code == 503
    assert "read-only" in refused.get_data(as_text=True)
    assert client.get(PAGE).status_code == 200
    assert client.get(f"/api/v1/annotations/{note.id}").status_code == 404  # private, anonymous
    session.expire_all()
    assert session.scalar(select(func.count(Annotation.id))) == 1
    assert viewer_for(session, user).user is not None


def _pg_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def test_postgresql_disk_full(tmp_path, database_url):
    """A cluster of its own whose data directory sits on a tiny disk (its WAL elsewhere)."""
    if database_url.startswith("sqlite"):
        pytest.skip("runs with the PostgreSQL suite")
    pg = _pg_bin()
    if pg is None or shutil.which("runuser") is None:
        pytest.fail("PostgreSQL server binaries are needed for this test")
    # The postgres user must reach these folders: pytest's own temporary folder is root's only.
    base = Path(tempfile.mkdtemp(prefix="scholia-pg-full-"))
    base.chmod(0o755)
    request_cleanup = contextlib.ExitStack()
    request_cleanup.callback(shutil.rmtree, base, ignore_errors=True)
    with request_cleanup, tiny_disk(base / "pgdisk", "64m") as disk:
        data, wal, sock = disk / "data", base / "wal", base / "sock"
        for folder in (wal, sock):
            folder.mkdir()
        subprocess.run(["chown", "-R", "postgres", str(base)], check=True)
        as_pg = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [
                *as_pg,
                str(pg / "initdb"),
                "-D",
                str(data),
                "--waldir",
                str(wal / "pg_wal"),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        port = factories_free_port()
        subprocess.run(
            [
                *as_pg,
                str(pg / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-l",
                str(base / "pg.log"),
                "-o",
                f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sock}",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        try:
            url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
            app = make_test_app(url, tmp_path / "instance")
            from flask_migrate import upgrade

            with app.app_context():
                upgrade()
                from app.extensions import db

                importer.import_file(db.session, SEED)
                db.session.commit()
                factories.make_user(db.session, "reader@example.org", "Reader")
            client = app.test_client()
            assert AuthActions(client).login().status_code == 302
            token = csrf_token(client, PAGE)
            content = client.get("/api/v1/texts/carr-rapprochement").get_json()["content"]
            filler = fill(disk)
            statuses = []
            for n in range(200):
                response = client.post(
                    "/api/v1/annotations",
                    json=_note_payload(content, "Arcos", f"note {n} " + "x" * 15_000),
                    headers={"X-CSRFToken": token},
                )
                statuses.append(response.status_code)
                if response.status_code == 503:
                    assert "disk is full" in response.get_json()["detail"]
                    break
            assert statuses[-1] == 503, statuses
            assert set(statuses[:-1]) <= {201}
            assert client.get(PAGE).status_code == 200
            filler.unlink()
            ok = client.post(
                "/api/v1/annotations",
                json=_note_payload(content, "Rapallo", "after the disk was freed"),
                headers={"X-CSRFToken": token},
            )
            assert ok.status_code == 201
            with app.app_context():
                db.engine.dispose()
        finally:
            subprocess.run(
                [*as_pg, str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                check=False,
                capture_output=True,
            )


def factories_free_port() -> int:
    from tests.integration.harness import _free_port

    return _free_port()
