"""MLflow 3 traces: trace info, tags, metadata, run links, spans (append-only) and assessments

Revision ID: 0014_traces
Revises: 0013_evaluation_datasets_scorers
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_traces"
down_revision = "0013_evaluation_datasets_scorers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('trace_info',
    sa.Column('trace_id', sa.String(length=50), nullable=False),
    sa.Column('project_id', sa.BigInteger(), nullable=False),
    sa.Column('experiment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_time', sa.BigInteger(), nullable=False),
    sa.Column('execution_duration', sa.BigInteger(), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('client_request_id', sa.String(length=250), nullable=True),
    sa.Column('request_preview', sa.Text(), nullable=True),
    sa.Column('response_preview', sa.Text(), nullable=True),
    sa.Column('finalized', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.experiment_id'], name=op.f('fk_trace_info_experiment_id_experiments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('trace_id', name=op.f('pk_trace_info'))
    )
    op.create_index(op.f('ix_trace_info_experiment_id_execution_duration'), 'trace_info', ['experiment_id', 'execution_duration'], unique=False)
    op.create_index(op.f('ix_trace_info_experiment_id_request_time'), 'trace_info', ['experiment_id', 'request_time'], unique=False)
    op.create_table('assessments',
    sa.Column('assessment_id', sa.String(length=50), nullable=False),
    sa.Column('trace_id', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('create_time_ms', sa.BigInteger(), nullable=False),
    sa.Column('last_update_time_ms', sa.BigInteger(), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('overrides', sa.String(length=50), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['trace_id'], ['trace_info.trace_id'], name=op.f('fk_assessments_trace_id_trace_info'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assessment_id', name=op.f('pk_assessments'))
    )
    op.create_index(op.f('ix_assessments_trace_id'), 'assessments', ['trace_id'], unique=False)
    op.create_table('spans',
    sa.Column('trace_id', sa.String(length=50), nullable=False),
    sa.Column('span_id', sa.String(length=16), nullable=False),
    sa.Column('parent_span_id', sa.String(length=16), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('span_type', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start_time_ns', sa.BigInteger(), nullable=False),
    sa.Column('end_time_ns', sa.BigInteger(), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['trace_id'], ['trace_info.trace_id'], name=op.f('fk_spans_trace_id_trace_info'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('trace_id', 'span_id', name=op.f('pk_spans'))
    )
    op.create_table('trace_metadata',
    sa.Column('trace_id', sa.String(length=50), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['trace_id'], ['trace_info.trace_id'], name=op.f('fk_trace_metadata_trace_id_trace_info'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('trace_id', 'key', name=op.f('pk_trace_metadata')),
    sqlite_with_rowid=False
    )
    op.create_table('trace_runs',
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('trace_id', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['trace_id'], ['trace_info.trace_id'], name=op.f('fk_trace_runs_trace_id_trace_info'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'trace_id', name=op.f('pk_trace_runs')),
    sqlite_with_rowid=False
    )
    op.create_index(op.f('ix_trace_runs_trace_id'), 'trace_runs', ['trace_id'], unique=False)
    op.create_table('trace_tags',
    sa.Column('trace_id', sa.String(length=50), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['trace_id'], ['trace_info.trace_id'], name=op.f('fk_trace_tags_trace_id_trace_info'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('trace_id', 'key', name=op.f('pk_trace_tags')),
    sqlite_with_rowid=False
    )


def downgrade() -> None:
    op.drop_table('trace_tags')
    op.drop_index(op.f('ix_trace_runs_trace_id'), table_name='trace_runs')
    op.drop_table('trace_runs')
    op.drop_table('trace_metadata')
    op.drop_table('spans')
    op.drop_index(op.f('ix_assessments_trace_id'), table_name='assessments')
    op.drop_table('assessments')
    op.drop_index(op.f('ix_trace_info_experiment_id_request_time'), table_name='trace_info')
    op.drop_index(op.f('ix_trace_info_experiment_id_execution_duration'), table_name='trace_info')
    op.drop_table('trace_info')
