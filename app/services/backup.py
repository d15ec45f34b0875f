"""Backups of the embedded SQLite database, taken while the app is serving.

SQLite's online backup API copies the database page by page from a consistent snapshot (in WAL
mode writers carry on meanwhile), so a backup is always a whole, valid database. PostgreSQL
deployments use ``pg_dump`` and ``pg_restore`` instead (see README).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine


class BackupError(RuntimeError):
    pass


def _sqlite_path(engine: Engine) -> str:
    if engine.dialect.name != "sqlite":
        raise BackupError(
            "This database is PostgreSQL: back it up with pg_dump and restore it with "
            "pg_restore (see README, 'Backups')."
        )
    return engine.url.database


def check(path: Path) -> None:
    """Refuse a file that is not an intact Scholia database."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path}: not an SQLite database ({error})") from None
    if result != "ok":
        raise BackupError(f"{path}: the integrity check failed: {result}")
    if not {"alembic_version", "text", "annotation"} <= tables:
        raise BackupError(f"{path}: not a Scholia database (its tables are missing)")


def backup(engine: Engine, destination: Path) -> None:
    """Copy the live database to ``destination`` (which must not exist yet)."""
    source_path = _sqlite_path(engine)
    if destination.exists():
        raise BackupError(f"{destination} already exists; choose a new file name")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with (
        closing(sqlite3.connect(source_path, timeout=30)) as source,
        closing(sqlite3.connect(partial)) as target,
    ):
        source.backup(target)
    partial.rename(destination)  # a backup file either is complete or does not exist
    check(destination)


def restore(engine: Engine, source: Path) -> None:
    """Replace the live database's content with a checked backup's, in one locked copy."""
    target_path = _sqlite_path(engine)
    check(source)
    engine.dispose()
    with (
        sqlite3.connect(f"file:{source}?mode=ro", uri=True) as backup_db,
        sqlite3.connect(target_path, timeout=30) as live,
    ):
        backup_db.backup(live)
    engine.dispose()
