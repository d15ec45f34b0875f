"""full-text search: the words of paragraphs and annotations, kept in step by triggers

SQLite: two FTS5 tables (``paragraph_search``, ``annotation_search``; the rowid is the
paragraph's or annotation's id). PostgreSQL: a GIN index on the paragraphs' tsvector, and an
``annotation_search`` table (its words as text and as a generated tsvector, GIN-indexed).

Only the words are indexed; who may find them is decided when searching (app/services/search.py),
so hiding, moving, deleting a note or leaving a group needs no change here. Triggers on
``annotation``, ``annotation_tag`` and ``paragraph`` keep the words in step whoever writes them
(services, importer, bulk updates, a restored backup carries the index with it).

The schema is in app/search_index.py. On SQLite the triggers are made by migrations/env.py after
every migration run (a migration copying ``annotation`` would otherwise lose them, or fail).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 23:00:00

"""

from alembic import op

from app import search_index

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    search_index.create(op.get_bind())


def downgrade():
    search_index.drop(op.get_bind())
