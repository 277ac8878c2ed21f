"""form drafts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import activation.adapters.tables


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # What a caseworker typed when the save could not be taken (session expired, form stale): kept
    # for the to-do and the user until saved or for 7 days (issue 12).
    op.create_table(
        'form_drafts',
        sa.Column('todo_id', sa.String(length=48), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('kept_at', activation.adapters.tables.UTCDateTime(), nullable=False),
        sa.Column('expires_at', activation.adapters.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['username'], ['users.username']),
        sa.PrimaryKeyConstraint('todo_id', 'username'),
    )
    with op.batch_alter_table('form_drafts', schema=None) as batch_op:
        batch_op.create_index('ix_form_drafts_expires', ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('form_drafts', schema=None) as batch_op:
        batch_op.drop_index('ix_form_drafts_expires')
    op.drop_table('form_drafts')
