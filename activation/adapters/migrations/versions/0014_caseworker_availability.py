"""caseworker availability (meeting hours, slot length, daily cap) and absences (issue 15)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 14:05:00.000000
"""

from alembic import op
import sqlalchemy as sa
import activation.adapters.tables


revision = '0014'
down_revision = '0013'  # the lead renumbers at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    # When a caseworker holds meetings: the earliest free slot inside a deadline is found from these.
    op.create_table(
        'caseworker_availability',
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('municipality', sa.String(length=64), nullable=False),
        sa.Column('hours', sa.JSON(), nullable=False),
        sa.Column('slot_minutes', sa.Integer(), nullable=False),
        sa.Column('max_per_day', sa.Integer(), nullable=True),
        sa.Column('updated_by', sa.String(length=128), nullable=False),
        sa.Column('updated_at', activation.adapters.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('username'),
    )
    op.create_table(
        'caseworker_absences',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('recorded_by', sa.String(length=128), nullable=False),
        sa.Column('recorded_at', activation.adapters.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_caseworker_absences_user', 'caseworker_absences', ['username', 'last_day'])


def downgrade() -> None:
    op.drop_index('ix_caseworker_absences_user', table_name='caseworker_absences')
    op.drop_table('caseworker_absences')
    op.drop_table('caseworker_availability')
