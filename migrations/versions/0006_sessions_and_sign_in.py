"""session generations, device cookies on sign-in attempts, NFC emails

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 21:00:00

"""

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_login_attempt_device_created", ["device", "created_at"], unique=False
        )
    _nfc_emails()


def _nfc_emails():
    """Emails are compared in NFC from now on: store the old ones so, unless that would make
    two accounts share one address (then the account keeps its email as it was)."""
    connection = op.get_bind()
    user = sa.table("user", sa.column("id", sa.Integer), sa.column("email", sa.String))
    rows = connection.execute(sa.select(user.c.id, user.c.email)).all()
    taken = {email for _, email in rows}
    for user_id, email in rows:
        normal = unicodedata.normalize("NFC", email).lower()
        if normal != email and normal not in taken:
            connection.execute(user.update().where(user.c.id == user_id).values(email=normal))
            taken.add(normal)
        elif normal != email:
            logging.getLogger("alembic.runtime.migration").warning(
                "account %s keeps its email %r: its NFC form belongs to another account, and "
                "signing in compares NFC forms, so it cannot sign in until one of the two "
                "addresses is changed",
                user_id,
                email,
            )


def downgrade():
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempt_device_created")
        batch_op.drop_column("device")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
