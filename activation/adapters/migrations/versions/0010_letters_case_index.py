"""letters case index

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 11:40:00.000000
"""

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The case page lists a case's letters; at 50,000 cases it scanned 246,200 letters per page
    # (~100 ms on SQLite, 50-70 ms on PostgreSQL; bench/web_scale.py).
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.create_index('ix_letters_case', ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_index('ix_letters_case')
