"""a question an instructor pins to a group's discussion of one paragraph

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 01:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "paragraph_prompt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("body_source", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("pinned_by_id", sa.Integer(), nullable=True),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["annotation.id"],
            name=op.f("fk_paragraph_prompt_thread_id_annotation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pinned_by_id"],
            ["user.id"],
            name=op.f("fk_paragraph_prompt_pinned_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paragraph_prompt")),
        sa.UniqueConstraint("thread_id", name=op.f("uq_paragraph_prompt_thread_id")),
    )


def downgrade():
    # Earlier code knows no prompt and no event of the kind "prompt" (its kind would not load).
    op.execute("DELETE FROM event WHERE kind = 'prompt'")
    op.drop_table("paragraph_prompt")
