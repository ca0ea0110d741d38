"""Server-side web UI sessions (the cookie holds only the session id)

Revision ID: 0008_ui_sessions
Revises: 0007_key_value_statistics
"""
from alembic import op
import sqlalchemy as sa

revision = "0008_ui_sessions"
down_revision = "0007_key_value_statistics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ui_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("user_json", sa.Text(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("token_expires", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ui_sessions")),
    )
    op.create_index(op.f("ix_ui_sessions_user_id"), "ui_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_table("ui_sessions")
