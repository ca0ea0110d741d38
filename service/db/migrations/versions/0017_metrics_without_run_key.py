"""metrics.run_uuid no longer references runs: the key was checked by a trigger for every point
(on PostgreSQL ~4/5 of a 1,000-point insert's time), while every write checks its run in the same
transaction and no code deletes run rows (runs are soft-deleted)

Revision ID: 0017_metrics_without_run_key
Revises: 0016_gateway
"""
from alembic import op

revision = "0017_metrics_without_run_key"
down_revision = "0016_gateway"
branch_labels = None
depends_on = None

_COLUMNS = "run_uuid, key, timestamp, step, value, is_nan"
# SQLite cannot drop a constraint: the table is rebuilt, keeping WITHOUT ROWID and the key's order.
_SQLITE_TABLE = """CREATE TABLE {name} (
    run_uuid VARCHAR(32) NOT NULL,
    key VARCHAR(250) NOT NULL,
    timestamp BIGINT NOT NULL,
    step BIGINT NOT NULL,
    value FLOAT NOT NULL,
    is_nan BOOLEAN NOT NULL,
    {foreign_key}CONSTRAINT pk_metrics PRIMARY KEY (run_uuid, key, timestamp, step, value, is_nan)
) WITHOUT ROWID"""
_FOREIGN_KEY = ("CONSTRAINT fk_metrics_run_uuid_runs FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid) "
                "ON DELETE CASCADE,\n    ")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(foreign_key="")
    else:
        op.drop_constraint("fk_metrics_run_uuid_runs", "metrics", type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(foreign_key=_FOREIGN_KEY)
    else:
        op.create_foreign_key("fk_metrics_run_uuid_runs", "metrics", "runs", ["run_uuid"], ["run_uuid"],
                              ondelete="CASCADE")


def _rebuild_sqlite(foreign_key: str) -> None:
    op.execute(_SQLITE_TABLE.format(name="metrics_rebuilt", foreign_key=foreign_key))
    op.execute(f"INSERT INTO metrics_rebuilt ({_COLUMNS}) SELECT {_COLUMNS} FROM metrics")
    op.execute("DROP TABLE metrics")
    op.execute("ALTER TABLE metrics_rebuilt RENAME TO metrics")
