"""which part of a reading page each event changed, for which audience (shared renders)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 14:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "part_change",
        sa.Column(
            "event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("audience", sa.String(length=40), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("text_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_part_change_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["text_id"], ["text.id"], name=op.f("fk_part_change_text_id_text"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "audience", "part", name=op.f("pk_part_change")),
    )
    op.create_index(
        "ix_part_change_version",
        "part_change",
        ["text_id", "audience", "part", "event_id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_part_change_version", table_name="part_change")
    op.drop_table("part_change")
