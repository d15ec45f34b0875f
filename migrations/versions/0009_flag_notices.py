"""an inbox notice for each flag, to the moderators of the flagged note's audience; reactions to
one's own notes go (no longer allowed: the author had no way left to take them back)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flag_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notification_flag_id_flag"),
            "flag",
            ["flag_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_notification_flag_id"), ["flag_id"], unique=False)
    op.execute(
        "DELETE FROM reaction WHERE EXISTS (SELECT 1 FROM annotation"
        " WHERE annotation.id = reaction.annotation_id AND annotation.user_id = reaction.user_id)"
    )


def downgrade():
    # Earlier code knows no notice of a flag (its kind would not load): they go, the flags stay.
    # Reactions to one's own notes are not made again: earlier code did without them.
    op.execute("DELETE FROM notification WHERE kind = 'flag'")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_flag_id"))
        batch_op.drop_constraint(batch_op.f("fk_notification_flag_id_flag"), type_="foreignkey")
        batch_op.drop_column("flag_id")
