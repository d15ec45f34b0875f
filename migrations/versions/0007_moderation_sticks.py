"""who deleted an annotation, history sealed by a move, one open flag per reader, removals,
who made each change (write quotas)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 22:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_annotation_deleted_by_id_user"),
            "user",
            ["deleted_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_event_actor_id_user"), "user", ["actor_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_event_actor_created", ["actor_id", "created_at"], unique=False)
    # Earlier versions may have been written for another audience than today's (nothing kept
    # track): they stay their author's alone. New versions start readable (server default).
    with op.batch_alter_table("annotation_version", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("author_only", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("annotation_version", schema=None) as batch_op:
        batch_op.alter_column("author_only", server_default=sa.false())
    # Duplicate open flags by one reader collapse into the first before the index holds.
    op.execute(
        "UPDATE flag SET resolved_at = created_at WHERE resolved_at IS NULL AND id NOT IN "
        "(SELECT MIN(id) FROM flag WHERE resolved_at IS NULL GROUP BY annotation_id, user_id)"
    )
    op.create_table(
        "group_removal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["reading_group.id"],
            name=op.f("fk_group_removal_group_id_reading_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_group_removal_user_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_id"],
            ["user.id"],
            name=op.f("fk_group_removal_removed_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_removal")),
        sa.UniqueConstraint("group_id", "user_id", name=op.f("uq_group_removal_group_id")),
    )
    op.create_index(
        "uq_flag_open",
        "flag",
        ["annotation_id", "user_id"],
        unique=True,
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    )


def downgrade():
    op.drop_index("uq_flag_open", table_name="flag")
    op.drop_table("group_removal")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_actor_created")
        batch_op.drop_constraint(batch_op.f("fk_event_actor_id_user"), type_="foreignkey")
        batch_op.drop_column("actor_id")
    with op.batch_alter_table("annotation_version", schema=None) as batch_op:
        batch_op.drop_column("author_only")
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_annotation_deleted_by_id_user"), type_="foreignkey")
        batch_op.drop_column("deleted_by_id")
