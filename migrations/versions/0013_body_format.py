"""a note's words keep their media type and language (W3C model §3.2.4)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 23:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "body_format", sa.String(length=32), nullable=False, server_default="text/markdown"
            )
        )
        batch_op.add_column(sa.Column("body_language", sa.String(length=35), nullable=True))


def downgrade():
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.drop_column("body_language")
        batch_op.drop_column("body_format")
