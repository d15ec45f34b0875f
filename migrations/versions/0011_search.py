"""full-text search: the words of paragraphs and annotations, kept in step by triggers

SQLite: two FTS5 tables (``paragraph_search``, ``annotation_search``; the rowid is the
paragraph's or annotation's id). PostgreSQL: a GIN index on the paragraphs' tsvector, and an
``annotation_search`` table (its words as text and as a generated tsvector, GIN-indexed).

Only the words are indexed; who may find them is decided when searching (app/services/search.py),
so hiding, moving, deleting a note or leaving a group needs no change here. Triggers on
``annotation``, ``annotation_tag`` and ``paragraph`` keep the words in step whoever writes them
(services, importer, bulk updates, a restored backup carries the index with it).

NOTE for later migrations: on SQLite, ``batch_alter_table`` on one of those three tables copies
and drops it, and its triggers go with it: such a migration must run ``create_triggers`` again.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04 23:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

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

PG_FUNCTIONS = [
    # One annotation's words, written again (none once the annotation is gone).
    """CREATE FUNCTION annotation_search_refresh(target integer) RETURNS void
    LANGUAGE sql AS $$
      DELETE FROM annotation_search WHERE annotation_id = target;
      INSERT INTO annotation_search (annotation_id, body, quote, tags)
      SELECT a.id, a.body_source, coalesce(a.exact, ''),
             coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.name) FROM annotation_tag t
                       WHERE t.annotation_id = a.id), '')
      FROM annotation a WHERE a.id = target;
    $$""",
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


def create_triggers(dialect: str) -> None:
    for name, definition in (SQLITE_TRIGGERS if dialect == "sqlite" else PG_TRIGGERS).items():
        op.execute(f"CREATE TRIGGER {name} {definition}")


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        tokenize = f"tokenize='{SQLITE_TOKENIZER}'"
        op.execute(f"CREATE VIRTUAL TABLE paragraph_search USING fts5(body, {tokenize})")
        op.execute(
            f"CREATE VIRTUAL TABLE annotation_search USING fts5(body, quote, tags, {tokenize})"
        )
        op.execute("INSERT INTO paragraph_search (rowid, body) SELECT id, body FROM paragraph")
        op.execute(
            f"INSERT INTO annotation_search (rowid, body, quote, tags) {_SQLITE_ANNOTATION_ROW}"
        )
        create_triggers(dialect)
        return
    op.execute(
        "CREATE INDEX ix_paragraph_search ON paragraph"
        f" USING gin (to_tsvector('{PG_CONFIG}'::regconfig, body))"
    )
    op.execute(
        "CREATE TABLE annotation_search ("
        " annotation_id integer PRIMARY KEY REFERENCES annotation (id) ON DELETE CASCADE,"
        " body text NOT NULL, quote text NOT NULL, tags text NOT NULL,"
        f" words tsvector GENERATED ALWAYS AS (to_tsvector('{PG_CONFIG}'::regconfig,"
        " body || ' ' || quote || ' ' || tags)) STORED)"
    )
    op.execute("CREATE INDEX ix_annotation_search_words ON annotation_search USING gin (words)")
    for function in PG_FUNCTIONS:
        op.execute(function)
    op.execute(
        "INSERT INTO annotation_search (annotation_id, body, quote, tags)"
        " SELECT a.id, a.body_source, coalesce(a.exact, ''),"
        " coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.name) FROM annotation_tag t"
        " WHERE t.annotation_id = a.id), '') FROM annotation a"
    )
    create_triggers(dialect)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS annotation_search")
        op.execute("DROP TABLE IF EXISTS paragraph_search")
        return
    op.execute("DROP TRIGGER IF EXISTS annotation_search_words ON annotation")
    op.execute("DROP TRIGGER IF EXISTS annotation_search_tags ON annotation_tag")
    op.execute("DROP TABLE IF EXISTS annotation_search")
    for function in (
        "annotation_search_on_tag()",
        "annotation_search_on_annotation()",
        "annotation_search_refresh(integer)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DROP INDEX IF EXISTS ix_paragraph_search")
