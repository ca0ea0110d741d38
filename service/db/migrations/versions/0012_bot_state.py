"""The bot's own state: per-project webhook secrets (hashed) and answered command notes

Revision ID: 0012_bot_state
Revises: 0011_logged_model_metrics
"""
from alembic import op
import sqlalchemy as sa

revision = "0012_bot_state"
down_revision = "0011_logged_model_metrics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_secrets",
        sa.Column("project_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("hook_id", sa.BigInteger(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_webhook_secrets")),
    )
    op.create_table(
        "command_replies",
        sa.Column("project_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("note_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reply_note_id", sa.BigInteger(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "note_id", name=op.f("pk_command_replies")),
    )


def downgrade() -> None:
    op.drop_table("command_replies")
    op.drop_table("webhook_secrets")
