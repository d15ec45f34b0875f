"""who added a text on the page (texts from the command line have nobody)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 01:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("text", schema=None) as batch_op:
        batch_op.add_column(sa.Column("added_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_text_added_by_id_user"),
            "user",
            ["added_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        # The day's count of an account's new texts (services/quotas.py: check_texts).
        batch_op.create_index(
            "ix_text_added_by_created", ["added_by_id", "created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("text", schema=None) as batch_op:
        batch_op.drop_index("ix_text_added_by_created")
        batch_op.drop_constraint(batch_op.f("fk_text_added_by_id_user"), type_="foreignkey")
        batch_op.drop_column("added_by_id")
