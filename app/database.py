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
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, Insert, Select, event, insert, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached, scoped_session

T = TypeVar("T")

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
    """End the read-only transaction and begin one holding the write lock, on one connection.

    The read transaction is committed and ``BEGIN IMMEDIATE`` follows on the same connection,
    inside what SQLAlchemy counts as one transaction: cheaper than a commit, a return of the
    connection to the pool and a new checkout. What the read loaded is expired, but ``keep``.
    Unflushed changes are written by a commit through the session first, as they always were,
    and so is a transaction SQLite never began (an engine without ``configure_engine``).
    """
    connection = session.connection()
    if connection.connection.dbapi_connection.in_transaction and not (
        session.new or session.dirty or session.deleted
    ):
        driver = connection.connection.driver_connection
        driver.execute("COMMIT")
        _begin_immediate(driver)
    else:
        session.commit()
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    if session.expire_on_commit:
        kept = {id(obj) for obj in keep if obj is not None}
        for obj in list(session.identity_map.values()):
            if id(obj) not in kept:
                session.expire(obj)


def insert_loaded(session: Session, obj: T) -> T:
    """INSERT a new object with one plain statement; it joins the session persistent and loaded.

    For the hottest write (a new annotation): planning a flush costs the unit of work about half
    a millisecond, spent under SQLite's write lock, where one INSERT costs a tenth of that. The
    object must be transient and carry every column's value (a missing scalar default is filled
    in here; nothing may come from the server, such as a server default or a trigger), and any
    relationship set on it must point at persistent objects: nothing cascades. Its values are
    then made what loading the row would give (SQLite, for one, gives datetimes back without
    their time zone), so the object needs no reload and reads as it will in later requests.
    """
    connection = session.connection()
    state = inspect(obj)
    plan = _insert_plan(state.mapper, connection.dialect)
    given = state.dict
    values = {}
    for key, column_key, default, primary in plan.columns:
        value = given.get(key)
        if value is None:
            if primary:
                continue
            value = default
        values[column_key] = value
    result = connection.execute(plan.insert, values)
    # Every column present, as a load would give it: nothing is left to load later. (Written
    # straight into the instance's dict: the next step resets its history anyway.)
    for key, column_key, _, _ in plan.columns:
        if column_key in values:
            value = values[column_key]
            convert = plan.as_loaded.get(key)
            given[key] = convert(value) if convert is not None and value is not None else value
    for key, value in zip(plan.primary_key, result.inserted_primary_key, strict=True):
        given[key] = value
    make_transient_to_detached(obj)
    session.add(obj)
    _remember_inserted(session, obj)
    return obj


def _remember_inserted(session: Session, obj: object) -> None:
    """Note which transaction wrote ``obj``: if that one rolls back, the object must go too.

    (A flush tells the session as much by itself; a plain INSERT cannot.)
    """
    if isinstance(session, scoped_session):
        session = session()
    current = session.get_transaction()
    written = [  # rows of earlier transactions, all committed, are forgotten
        (transaction, ref)
        for transaction, ref in session.info.get(_INSERTED, ())
        if ref() is not None and _within(transaction, current)
    ]
    written.append((session.get_nested_transaction() or current, weakref.ref(obj)))
    session.info[_INSERTED] = written


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, rolled_back) -> None:
    """Objects written by plain INSERTs in a transaction that rolled back become transient."""
    remaining = []
    for transaction, ref in session.info.get(_INSERTED, ()):
        obj = ref()
        if obj is None:
            continue
        if _within(transaction, rolled_back):
            make_transient(obj)
        elif rolled_back.parent is not None:  # a savepoint: its transaction goes on
            remaining.append((transaction, ref))
    session.info[_INSERTED] = remaining


def _within(transaction, outer) -> bool:
    while transaction is not None and transaction is not outer:
        transaction = transaction.parent
    return transaction is not None


@dataclass(frozen=True)
class _InsertPlan:
    insert: Insert
    # (attribute, column, scalar default or None, part of the primary key)
    columns: list[tuple[str, str, object, bool]]
    primary_key: list[str]
    as_loaded: dict[str, Callable[[object], object]]  # value -> as a load of the row gives it


_PLANS: dict[tuple[object, str], _InsertPlan] = {}


def _insert_plan(mapper, dialect) -> _InsertPlan:
    plan = _PLANS.get((mapper, dialect.name))
    if plan is not None:
        return plan
    columns, as_loaded = [], {}
    for prop in mapper.column_attrs:
        [column] = prop.columns
        default = (
            column.default.arg if column.default is not None and column.default.is_scalar else None
        )
        columns.append((prop.key, column.key, default, column.primary_key))
        kind = column.type.dialect_impl(dialect)
        bind, load = kind.bind_processor(dialect), kind.result_processor(dialect, None)
        if bind or load:
            as_loaded[prop.key] = _round_trip(bind, load)
    plan = _InsertPlan(
        insert(mapper.local_table),
        columns,
        [mapper.get_property_by_column(c).key for c in mapper.primary_key],
        as_loaded,
    )
    _PLANS[(mapper, dialect.name)] = plan
    return plan


def _round_trip(bind, load) -> Callable[[object], object]:
    def as_loaded(value):
        stored = bind(value) if bind else value
        return load(stored) if load else stored

    return as_loaded


_INSERTED = "scholia.inserted"
_WRITING = "scholia.writing"
_EXPIRE_ON_COMMIT = "scholia.expire_on_commit"


@event.listens_for(Session, "after_transaction_end")
def _write_ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITING, None)
        if _EXPIRE_ON_COMMIT in session.info:
            session.expire_on_commit = session.info.pop(_EXPIRE_ON_COMMIT)


class DriverQuery:
    """A prebuilt SELECT run straight on the driver, for the reads on every request's path.

    A cached answer costs two small reads (who is asking, where the text's change log stands),
    and SQLAlchemy's execution (its context, cursor wrapper and result) costs each several times
    what SQLite takes to answer it. Here the statement is compiled once per dialect and run on a
    connection checked out of the engine's pool and returned at once, and its rows are converted
    by the columns' types as a Core result's are. Being outside any Session, it sees committed
    data only: it is for reads made before the request writes anything.

    While something watches the engine's statements (a test or a benchmark counting them, echo)
    it runs as an ordinary Core execution, which they see; so does a read the driver refused, so
    that the error is SQLAlchemy's, as the error pages and the pool expect.
    """

    def __init__(self, statement: Select):
        self.statement = statement
        self._plans: dict[str, _DriverPlan] = {}

    def all(self, engine: Engine, params: dict) -> list[tuple]:
        """The rows, as named tuples."""
        dispatch = engine.dispatch
        if engine.echo or dispatch.before_cursor_execute or dispatch.after_cursor_execute:
            return self._on_core(engine, params)
        plan = self._plans.get(engine.dialect.name) or self._plan(engine.dialect)
        values = {**plan.defaults, **params}
        bound = [values[name] for name in plan.positions] if plan.positions else values
        try:
            rows = _fetch_all(engine, plan.sql, bound)
        except engine.dialect.loaded_dbapi.Error:
            return self._on_core(engine, params)
        make = plan.row
        if not plan.convert:
            return [make(row) for row in rows]
        converted = []
        for row in rows:
            row = list(row)
            for index, process in plan.convert:
                if row[index] is not None:
                    row[index] = process(row[index])
            converted.append(make(row))
        return converted

    def _on_core(self, engine: Engine, params: dict) -> list[tuple]:
        with engine.connect() as connection:
            return connection.execute(self.statement, params).all()

    def _plan(self, dialect) -> _DriverPlan:
        compiled = self.statement.compile(dialect=dialect)
        if any(bind.expanding or bind.literal_execute for bind in compiled.binds.values()):
            raise ValueError("DriverQuery binds plain parameters only")
        columns = self.statement.selected_columns
        convert = []
        for index, column in enumerate(columns):
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                convert.append((index, process))
        plan = _DriverPlan(
            compiled.string,
            tuple(compiled.positiontup or ()) if dialect.positional else (),
            {name: bind.value for name, bind in compiled.binds.items() if not bind.required},
            convert,
            namedtuple("Row", columns.keys(), rename=True)._make,
        )
        self._plans[dialect.name] = plan
        return plan


def _fetch_all(engine: Engine, sql: str, bound) -> list[tuple]:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, bound)
            return cursor.fetchall()
        finally:
            cursor.close()
    finally:
        connection.close()  # back to the pool, which rolls back whatever the driver began


@dataclass(frozen=True)
class _DriverPlan:
    sql: str
    positions: tuple[str, ...]  # the parameters' names in order, for a positional paramstyle
    defaults: dict[str, object]  # values the statement binds itself
    convert: list[tuple[int, Callable[[object], object]]]  # column index, result processor
    row: Callable[[Iterable], tuple]
