"""rule kinds of the law since 2020: coverage exemptions, work-duty week plans

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 13:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import activation.adapters.tables


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A case exempted from a caseload coverage target (issue 13): reason, who, when; one per case and target.
    op.create_table(
        'coverage_exemptions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.String(length=32), nullable=False),
        sa.Column('municipality', sa.String(length=64), nullable=False),
        sa.Column('target', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=64), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('recorded_by', sa.String(length=128), nullable=False),
        sa.Column('recorded_at', activation.adapters.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'target', name='uq_coverage_exemptions_case_target'),
    )
    with op.batch_alter_table('coverage_exemptions', schema=None) as batch_op:
        batch_op.create_index('ix_coverage_exemptions_target', ['municipality', 'target'], unique=False)
    # The work duty's week plans (LAB kap. 16 a): one per case and week.
    op.create_table(
        'week_plans',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.String(length=32), nullable=False),
        sa.Column('municipality', sa.String(length=64), nullable=False),
        sa.Column('week_start', sa.Date(), nullable=False),
        sa.Column('required_hours', sa.Float(), nullable=False),
        sa.Column('activities', sa.JSON(), nullable=False),
        sa.Column('recorded_by', sa.String(length=128), nullable=False),
        sa.Column('recorded_at', activation.adapters.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'week_start', name='uq_week_plans_case_week'),
    )
    with op.batch_alter_table('week_plans', schema=None) as batch_op:
        batch_op.create_index('ix_week_plans_week', ['municipality', 'week_start'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('week_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_week_plans_week')
    op.drop_table('week_plans')
    with op.batch_alter_table('coverage_exemptions', schema=None) as batch_op:
        batch_op.drop_index('ix_coverage_exemptions_target')
    op.drop_table('coverage_exemptions')
