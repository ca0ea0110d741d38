"""Uploads the bot made per merge request, by content hash

Revision ID: 0009_bot_uploads
Revises: 0008_ui_sessions
"""
from alembic import op
import sqlalchemy as sa

revision = "0009_bot_uploads"
down_revision = "0008_ui_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_uploads",
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("merge_request_iid", sa.BigInteger(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "merge_request_iid", "content_hash", name=op.f("pk_bot_uploads")),
    )


def downgrade() -> None:
    op.drop_table("bot_uploads")
