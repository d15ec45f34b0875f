"""where an annotation came from (W3C ``via``, ``canonical``), unique per reader and text so a
re-import stores nothing twice; and each import of a file, for the imports' own quota

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-04 23:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("via", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("canonical", sa.String(length=1000), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_annotation_user_id"), ["user_id", "text_id", "via"]
        )
    op.create_table(
        "annotation_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("text_id", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["text_id"],
            ["text.id"],
            name=op.f("fk_annotation_import_text_id_text"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_annotation_import_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_import")),
    )
    op.create_index(
        "ix_annotation_import_user_created",
        "annotation_import",
        ["user_id", "created_at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_annotation_import_user_created", table_name="annotation_import")
    op.drop_table("annotation_import")
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_annotation_user_id"), type_="unique")
        batch_op.drop_column("canonical")
        batch_op.drop_column("via")
