"""Engine tuning that makes SQLite safe under several gunicorn workers.

SQLite: WAL (readers never block the writer), a busy timeout (writers queue instead of failing),
foreign keys on, and explicit BEGIN so that a write transaction can take the lock up front
(``BEGIN IMMEDIATE``): a read that later upgrades to a write could otherwise fail with
"database is locked" when another worker committed in between, whatever the busy timeout.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import time
from collections.abc import Iterable

from sqlalchemy import Engine, Select, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, scoped_session

# How long a write waits for SQLite's write lock before answering 503: each waiting write holds
# a worker, and readers queue behind it (a write takes a millisecond; this is for the lock held
# from outside, by a long migration or a stray process).
BUSY_TIMEOUT_MS = 5_000


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
    # Straight to the driver: every request begins a transaction, and BEGIN needs none of the
    # statement machinery (no parameters, no result).
    if mode == "IMMEDIATE":
        _begin_immediate(conn.connection.driver_connection)
    else:
        conn.connection.driver_connection.execute(f"BEGIN {mode}")


# Pauses between tries for the write lock, in seconds; the last one repeats.
LOCK_NAPS = (0.0001, 0.0002, 0.0003, 0.0005)


def _begin_immediate(driver: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in short naps instead of SQLite's.

    SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ms... between tries: a writer that
    finds the lock taken sleeps through several transactions of half a millisecond, and with
    every worker asleep the CPUs idle. Here the busy timeout is off while we try, and on for
    everything else; past BUSY_TIMEOUT_MS the error is SQLite's own "database is locked".
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    driver.execute("PRAGMA busy_timeout = 0")
    try:
        for attempt in itertools.count():
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    # As SQLAlchemy's own: its error pages answer "busy" with a 503, which
                    # the driver's bare exception, raised outside a statement, never reached.
                    raise OperationalError("BEGIN IMMEDIATE", None, error) from error
            time.sleep(LOCK_NAPS[min(attempt, len(LOCK_NAPS) - 1)])
    finally:
        driver.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def begin_write(
    session: Session, keep: Iterable[object] = (), expire_on_commit: bool = True
) -> None:
    """Start the transaction a service is about to write in.

    On SQLite this ends any read-only transaction the request has open and begins with the write
    lock held, so the write cannot fail half-way on a stale snapshot. On PostgreSQL row locks do
    that job and this only makes sure a transaction is open.

    Ending the read transaction expires what it loaded, so that the write reads the rows again
    under the lock; ``keep`` names objects to leave as they are, such as the signed-in user,
    whose memberships the request's viewer was judged on in that same read anyway.

    ``expire_on_commit=False``: the commit that ends this write transaction leaves every loaded
    object as it is, for a caller that answers with what it just wrote (it was read or written
    under the write lock, so it is what was committed); by default the commit expires them all
    and each later access reloads.
    """
    if isinstance(session, scoped_session):
        session = session()
    # Already writing: one service calling another stays in one transaction.
    if not (session.info.get(_WRITING) and session.in_transaction()):
        if session.get_bind().dialect.name == "sqlite":
            if session.in_transaction():
                _end_read(session, keep)
            else:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        else:
            session.connection()
        session.info[_WRITING] = True
    if not expire_on_commit and _EXPIRE_ON_COMMIT not in session.info:
        session.info[_EXPIRE_ON_COMMIT] = session.expire_on_commit  # restored when it ends
        session.expire_on_commit = False


def _end_read(session: Session, keep: Iterable[object]) -> None:
    """End the read-only transaction and begin one holding the write lock. What the read
    loaded is expired, so that the write reads it again under the lock, but ``keep``."""
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    if expire:
        kept = {id(obj) for obj in keep if obj is not None}
        for obj in list(session):
            if id(obj) not in kept:
                session.expire(obj)


_WRITING = "scholia.writing"
_EXPIRE_ON_COMMIT = "scholia.expire_on_commit"


@event.listens_for(Session, "after_transaction_end")
def _write_ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITING, None)
        if _EXPIRE_ON_COMMIT in session.info:
            session.expire_on_commit = session.info.pop(_EXPIRE_ON_COMMIT)


def rows_committed(engine: Engine, statement: Select, params: dict) -> list:
    """A read before the request has begun its session: on a connection of its own, returned
    to the pool at once, so that an answer served from a cache never opens a session at all."""
    with engine.connect() as connection:
        return connection.execute(statement, params).all()
