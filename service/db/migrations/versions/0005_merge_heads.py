"""Join the CI-links, registry and job-queue branches into one line of history

Revision ID: 0005_merge_heads
Revises: 0002_ci_links, 0003_registry, 0004_jobs
"""

revision = "0005_merge_heads"
down_revision = ("0002_ci_links", "0003_registry", "0004_jobs")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
