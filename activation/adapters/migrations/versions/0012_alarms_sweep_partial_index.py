"""alarms sweep index: only alarms a sweep has taken

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 13:00:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

TAKEN = sa.text('sweep_id IS NOT NULL')


def upgrade() -> None:
    # The sweep writes a batch's notifications and outbox events from the alarms it just took
    # (sweep_id = :id). Over every alarm, pending ones included, the index's statistics said one
    # value (NULL) covers all rows, so SQLite's planner scanned the table instead (issue 16).
    # Indexing only taken alarms keeps the statistics true and the index small.
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index('ix_alarms_sweep')
        batch_op.create_index(
            'ix_alarms_sweep', ['sweep_id'], unique=False, sqlite_where=TAKEN, postgresql_where=TAKEN
        )


def downgrade() -> None:
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index('ix_alarms_sweep')
        batch_op.create_index('ix_alarms_sweep', ['sweep_id'], unique=False)
