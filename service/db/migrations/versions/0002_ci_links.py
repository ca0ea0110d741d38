"""GitLab CI links: candidate → job, pipeline, commit, ref, merge request

Revision ID: 0002_ci_links
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_ci_links'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ci_links',
    sa.Column('run_uuid', sa.String(length=32), nullable=False),
    sa.Column('project_id', sa.BigInteger(), nullable=False),
    sa.Column('job_id', sa.BigInteger(), nullable=False),
    sa.Column('pipeline_id', sa.BigInteger(), nullable=False),
    sa.Column('commit_sha', sa.String(length=64), nullable=False),
    sa.Column('ref', sa.String(length=255), nullable=False),
    sa.Column('merge_request_iid', sa.BigInteger(), nullable=True),
    sa.Column('user', sa.String(length=255), nullable=False),
    sa.Column('linked_time', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['run_uuid'], ['runs.run_uuid'], name=op.f('fk_ci_links_run_uuid_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_uuid', name=op.f('pk_ci_links'))
    )
    with op.batch_alter_table('ci_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ci_links_project_id_pipeline_id'), ['project_id', 'pipeline_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ci_links_project_id_merge_request_iid'), ['project_id', 'merge_request_iid'], unique=False)
        batch_op.create_index(batch_op.f('ix_ci_links_project_id_ref_pipeline_id'), ['project_id', 'ref', 'pipeline_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ci_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ci_links_project_id_ref_pipeline_id'))
        batch_op.drop_index(batch_op.f('ix_ci_links_project_id_merge_request_iid'))
        batch_op.drop_index(batch_op.f('ix_ci_links_project_id_pipeline_id'))
    op.drop_table('ci_links')
