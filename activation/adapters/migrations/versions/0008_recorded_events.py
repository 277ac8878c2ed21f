"""case events recorded outside the stages

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import activation.adapters.tables


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A job conversation or an offer recorded on the case page, the API or the CLI has no step
    # (issue 12): its own id makes the same submission twice one event.
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.alter_column('step_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('event_id', sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('recorded_by', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('recorded_at', activation.adapters.tables.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint('uq_case_events_event_id', ['event_id'])


def downgrade() -> None:
    op.execute("DELETE FROM case_events WHERE step_id IS NULL")
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_case_events_event_id', type_='unique')
        batch_op.drop_column('recorded_at')
        batch_op.drop_column('recorded_by')
        batch_op.drop_column('note')
        batch_op.drop_column('event_id')
        batch_op.alter_column('step_id', existing_type=sa.Integer(), nullable=False)
