"""suggested corrections: motivation ``editing`` with its suggestion row; who made a revision
and why; the revision each annotation was written on (backfilled with the one it is on)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 01:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("text_revision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=False, server_default=""))
        batch_op.create_foreign_key(
            batch_op.f("fk_text_revision_created_by_id_user"),
            "user",
            ["created_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("written_revision_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_annotation_written_revision_id_text_revision"),
            "text_revision",
            ["written_revision_id"],
            ["id"],
            ondelete="CASCADE",
        )
    # Until now a note stayed on the revision it was written on unless a re-import moved it:
    # the one it is on is the best answer there is.
    op.execute("UPDATE annotation SET written_revision_id = revision_id")
    op.create_table(
        "suggestion",
        sa.Column("annotation_id", sa.Integer(), nullable=False),
        sa.Column("original", sa.Text(), nullable=False),
        sa.Column("replacement", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "accepted",
                "declined",
                name="suggestionstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotation.id"],
            name=op.f("fk_suggestion_annotation_id_annotation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user.id"],
            name=op.f("fk_suggestion_decided_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["text_revision.id"],
            name=op.f("fk_suggestion_revision_id_text_revision"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("annotation_id", name=op.f("pk_suggestion")),
    )


def downgrade():
    op.drop_table("suggestion")
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_annotation_written_revision_id_text_revision"), type_="foreignkey"
        )
        batch_op.drop_column("written_revision_id")
    with op.batch_alter_table("text_revision", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_text_revision_created_by_id_user"), type_="foreignkey"
        )
        batch_op.drop_column("summary")
        batch_op.drop_column("created_by_id")
