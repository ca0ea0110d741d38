"""PostgreSQL statistics on (key, value) of params and tags

A filter such as `params.p0 = 'v3'` matches key and value together, and PostgreSQL estimates such a
pair as if the two were independent: on 100,000 runs it expected 400 rows where 10,000 match, and
so planned search to start from the params and sort every match (112 ms) instead of walking the
ordering metric's index and stopping at the page's end (17 ms). Multivariate statistics give it the
pairs' real frequencies. SQLite has nothing of the kind.

Revision ID: 0007_key_value_statistics
Revises: 0006_leases
"""
from alembic import op

revision = "0007_key_value_statistics"
down_revision = "0006_leases"
branch_labels = None
depends_on = None

_TABLES = ("params", "tags")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f"CREATE STATISTICS IF NOT EXISTS {table}_key_value (mcv, dependencies) ON key, value FROM {table}")
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f"DROP STATISTICS IF EXISTS {table}_key_value")
