"""The importer's durable progress (source item → target item, started/done)

Revision ID: 0010_import_progress
Revises: 0009_bot_uploads
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_import_progress"
down_revision = "0009_bot_uploads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_progress",
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.String(length=500), nullable=False),
        sa.Column("target_key", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", "project_id", "kind", "source_key", name=op.f("pk_import_progress")),
    )


def downgrade() -> None:
    op.drop_table("import_progress")
