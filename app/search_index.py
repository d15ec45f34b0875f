"""The search index's schema (app/services/search.py reads it): made by migration 0014, and on
SQLite its triggers also by migrations/env.py, around every migration run.

Only words are indexed, keyed by id: each paragraph's body, each annotation's body, quote and
tags. Triggers keep them in step whoever writes. SQLite: two FTS5 tables, ``paragraph_search``
and ``annotation_search`` (rowid = the paragraph's or annotation's id). PostgreSQL: a GIN index
on the paragraphs' tsvector and an ``annotation_search`` table with a generated tsvector.

On SQLite, altering a table in a migration (``batch_alter_table``) copies it and drops the old
one, and its triggers with it; a trigger of another table naming it even makes the copy's
rename fail. So there the triggers are not the migrations' to keep: env.py drops them before a
run, and after it creates them again and writes every word anew (``sqlite_after_migrations``).
PostgreSQL alters tables in place; its triggers stay, made and dropped by 0014 itself.
"""

from __future__ import annotations

from sqlalchemy import Connection

# Porter stemming on both: "revolutions" finds "revolution".
SQLITE_TOKENIZER = "porter unicode61"
PG_CONFIG = "english"

# An annotation's words: its body as written, the words it quotes, and its tags.
_SQLITE_ANNOTATION_ROW = (
    "SELECT a.id, a.body_source, coalesce(a.exact, ''),"
    " coalesce((SELECT group_concat(t.name, ' ') FROM annotation_tag t"
    " WHERE t.annotation_id = a.id), '') FROM annotation a"
)


def _sqlite_reindex(which: str) -> str:
    """The statements writing one annotation's words again (``which``: new.id, old.id...)."""
    # No input reaches this SQL: ``which`` names a trigger's row.
    return (
        f"DELETE FROM annotation_search WHERE rowid = {which};"  # noqa: S608
        f" INSERT INTO annotation_search (rowid, body, quote, tags)"
        f" {_SQLITE_ANNOTATION_ROW} WHERE a.id = {which};"
    )


SQLITE_TRIGGERS = {
    "paragraph_search_insert": "AFTER INSERT ON paragraph BEGIN"
    " INSERT INTO paragraph_search (rowid, body) VALUES (new.id, new.body); END",
    "paragraph_search_update": "AFTER UPDATE OF body ON paragraph BEGIN"
    " DELETE FROM paragraph_search WHERE rowid = old.id;"
    " INSERT INTO paragraph_search (rowid, body) VALUES (new.id, new.body); END",
    "paragraph_search_delete": "AFTER DELETE ON paragraph BEGIN"
    " DELETE FROM paragraph_search WHERE rowid = old.id; END",
    "annotation_search_insert": f"AFTER INSERT ON annotation BEGIN {_sqlite_reindex('new.id')} END",
    "annotation_search_update": "AFTER UPDATE OF body_source, exact ON annotation BEGIN"
    f" {_sqlite_reindex('new.id')} END",
    "annotation_search_delete": "AFTER DELETE ON annotation BEGIN"
    " DELETE FROM annotation_search WHERE rowid = old.id; END",
    "annotation_tag_search_insert": "AFTER INSERT ON annotation_tag BEGIN"
    f" {_sqlite_reindex('new.annotation_id')} END",
    "annotation_tag_search_update": "AFTER UPDATE ON annotation_tag BEGIN"
    f" {_sqlite_reindex('old.annotation_id')} {_sqlite_reindex('new.annotation_id')} END",
    "annotation_tag_search_delete": "AFTER DELETE ON annotation_tag BEGIN"
    f" {_sqlite_reindex('old.annotation_id')} END",
}

_PG_ANNOTATION_ROWS = (
    "SELECT a.id, a.body_source, coalesce(a.exact, ''),"
    " coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.name) FROM annotation_tag t"
    " WHERE t.annotation_id = a.id), '') FROM annotation a"
)
PG_FUNCTIONS = [
    # One annotation's words, written again (none once the annotation is gone).
    f"""CREATE FUNCTION annotation_search_refresh(target integer) RETURNS void
    LANGUAGE sql AS $$
      DELETE FROM annotation_search WHERE annotation_id = target;
      INSERT INTO annotation_search (annotation_id, body, quote, tags)
      {_PG_ANNOTATION_ROWS} WHERE a.id = target;
    $$""",  # noqa: S608 (no input: constants only)
    """CREATE FUNCTION annotation_search_on_annotation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM annotation_search_refresh(NEW.id);
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION annotation_search_on_tag() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP <> 'INSERT' THEN PERFORM annotation_search_refresh(OLD.annotation_id); END IF;
      IF TG_OP <> 'DELETE' THEN PERFORM annotation_search_refresh(NEW.annotation_id); END IF;
      RETURN NULL;
    END $$""",
]
PG_TRIGGERS = {
    "annotation_search_words": "AFTER INSERT OR UPDATE OF body_source, exact ON annotation"
    " FOR EACH ROW EXECUTE FUNCTION annotation_search_on_annotation()",
    "annotation_search_tags": "AFTER INSERT OR UPDATE OR DELETE ON annotation_tag"
    " FOR EACH ROW EXECUTE FUNCTION annotation_search_on_tag()",
}


def _run(connection: Connection, *statements: str) -> None:
    for statement in statements:
        connection.exec_driver_sql(statement)


def create(connection: Connection) -> None:
    """Migration 0014's upgrade: the index, filled from the rows there are."""
    if connection.dialect.name == "sqlite":
        tokenize = f"tokenize='{SQLITE_TOKENIZER}'"
        _run(
            connection,
            f"CREATE VIRTUAL TABLE paragraph_search USING fts5(body, {tokenize})",
            f"CREATE VIRTUAL TABLE annotation_search USING fts5(body, quote, tags, {tokenize})",
        )
        # Filled, and its triggers made, by env.py once the run is over (sqlite_after_migrations).
        return
    _run(
        connection,
        "CREATE INDEX ix_paragraph_search ON paragraph"
        f" USING gin (to_tsvector('{PG_CONFIG}'::regconfig, body))",
        "CREATE TABLE annotation_search ("
        " annotation_id integer PRIMARY KEY REFERENCES annotation (id) ON DELETE CASCADE,"
        " body text NOT NULL, quote text NOT NULL, tags text NOT NULL,"
        f" words tsvector GENERATED ALWAYS AS (to_tsvector('{PG_CONFIG}'::regconfig,"
        " body || ' ' || quote || ' ' || tags)) STORED)",
        "CREATE INDEX ix_annotation_search_words ON annotation_search USING gin (words)",
        *PG_FUNCTIONS,
        f"INSERT INTO annotation_search (annotation_id, body, quote, tags) {_PG_ANNOTATION_ROWS}",
        *(f"CREATE TRIGGER {name} {definition}" for name, definition in PG_TRIGGERS.items()),
    )


def drop(connection: Connection) -> None:
    """Migration 0014's downgrade."""
    if connection.dialect.name == "sqlite":
        _drop_sqlite_triggers(connection)
        _run(
            connection,
            "DROP TABLE IF EXISTS annotation_search",
            "DROP TABLE IF EXISTS paragraph_search",
        )
        return
    _run(
        connection,
        "DROP TRIGGER IF EXISTS annotation_search_words ON annotation",
        "DROP TRIGGER IF EXISTS annotation_search_tags ON annotation_tag",
        "DROP TABLE IF EXISTS annotation_search",
        "DROP FUNCTION IF EXISTS annotation_search_on_tag()",
        "DROP FUNCTION IF EXISTS annotation_search_on_annotation()",
        "DROP FUNCTION IF EXISTS annotation_search_refresh(integer)",
        "DROP INDEX IF EXISTS ix_paragraph_search",
    )


def _drop_sqlite_triggers(connection: Connection) -> None:
    _run(connection, *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS))


def sqlite_before_migrations(connection: Connection) -> None:
    """No search trigger while tables are copied and dropped (see the module's docstring)."""
    _drop_sqlite_triggers(connection)


def sqlite_after_migrations(connection: Connection, migrated: bool) -> None:
    """The triggers again, where the index exists; and, when a migration ran (whose writes no
    trigger saw), every word written anew."""
    tables = connection.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        " AND name IN ('paragraph_search', 'annotation_search')"
    ).scalar()
    if tables != 2:
        return
    if migrated:
        _run(
            connection,
            "DELETE FROM paragraph_search",
            "DELETE FROM annotation_search",
            "INSERT INTO paragraph_search (rowid, body) SELECT id, body FROM paragraph",
            f"INSERT INTO annotation_search (rowid, body, quote, tags) {_SQLITE_ANNOTATION_ROW}",
        )
    _run(
        connection,
        *(f"CREATE TRIGGER {name} {definition}" for name, definition in SQLITE_TRIGGERS.items()),
    )
