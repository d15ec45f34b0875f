"""Engine tuning that makes SQLite safe under several gunicorn workers.

SQLite: WAL (readers never block the writer), a busy timeout (writers queue instead of failing),
foreign keys on, and explicit BEGIN so that a write transaction can take the lock up front
(``BEGIN IMMEDIATE``): a read that later upgrades to a write could otherwise fail with
"database is locked" when another worker committed in between, whatever the busy timeout.
"""

from __future__ import annotations

import os
import sqlite3

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, scoped_session

BUSY_TIMEOUT_MS = 15_000


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    # A pooled connection must never cross fork(): gunicorn --preload would otherwise share one.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record) -> None:
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, see _sqlite_on_begin
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    # NORMAL in WAL mode: a committed transaction survives an application crash (SIGKILL);
    # only a power loss can roll back the last commits, never corrupt the file.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_on_begin(conn) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def begin_write(session: Session) -> None:
    """Start the transaction a service is about to write in.

    On SQLite this ends any read-only transaction the request has open and begins with the write
    lock held, so the write cannot fail half-way on a stale snapshot. On PostgreSQL row locks do
    that job and this only makes sure a transaction is open.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.info.get(_WRITING) and session.in_transaction():
        return  # already writing: one service calling another stays in one transaction
    if session.get_bind().dialect.name == "sqlite":
        if session.in_transaction():
            session.commit()
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    else:
        session.connection()
    session.info[_WRITING] = True


_WRITING = "scholia.writing"


@event.listens_for(Session, "after_transaction_end")
def _write_ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITING, None)
