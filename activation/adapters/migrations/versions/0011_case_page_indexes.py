"""case page indexes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 13:10:00.000000
"""

from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The case page lists a case's notifications, the to-do page a to-do's booked meeting letter: at
    # 50,000 open cases each scanned the whole table (notifications 4 ms on SQLite, 3-50 ms on
    # PostgreSQL; letters by to-do 75 ms on PostgreSQL; bench/web_scale.py, issue 12).
    op.create_index('ix_notifications_case', 'notifications', ['case_id', 'created_at'], unique=False)
    op.create_index('ix_letters_todo', 'letters', ['todo_id', 'form', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_letters_todo', table_name='letters')
    op.drop_index('ix_notifications_case', table_name='notifications')
