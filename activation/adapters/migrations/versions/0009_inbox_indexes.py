"""inbox indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The inbox, search and the team view read pages and true counts from indexes (issue 12: p95 < 150 ms
    # at 50,000 open cases): a caseworker's and the queue's cases, the team's to-dos soonest due first,
    # a case's open deadlines, open obligation periods soonest due first, and the few stopped clocks.
    op.create_index('ix_cases_holder', 'cases', ['municipality', 'caseworker', 'status', 'team', 'id'], unique=False)
    op.create_index(
        'ix_cases_access', 'cases', ['id', 'municipality', 'team', 'status', 'caseworker', 'stage'], unique=False
    )
    op.drop_index('ix_todos_assignee_status_due', table_name='todos')
    for holder in ('assignee', 'team'):
        op.create_index(
            f'ix_todos_{holder}_status_due', 'todos', [holder, 'status', 'due_at', 'id', 'case_id', 'stage'], unique=False
        )
    op.drop_index('ix_deadlines_case', table_name='deadlines')
    op.create_index(
        'ix_deadlines_case',
        'deadlines',
        ['case_id', 'status', 'todo_id', 'due_at', 'paused_since', 'id'],
        unique=False,
    )
    # A to-do's deadline as before (todo_id first); the rest: open obligation periods (todo_id NULL) by due time.
    op.drop_index('ix_deadlines_todo', table_name='deadlines')
    op.create_index(
        'ix_deadlines_todo',
        'deadlines',
        ['todo_id', 'status', 'due_at', 'paused_since', 'case_id', 'id'],
        unique=False,
    )
    op.create_index(
        'ix_deadlines_paused',
        'deadlines',
        ['status', 'todo_id'],
        unique=False,
        sqlite_where=sa.text('paused_since IS NOT NULL'),
        postgresql_where=sa.text('paused_since IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_deadlines_paused', table_name='deadlines')
    op.drop_index('ix_deadlines_todo', table_name='deadlines')
    op.create_index('ix_deadlines_todo', 'deadlines', ['todo_id'], unique=False)
    op.drop_index('ix_deadlines_case', table_name='deadlines')
    op.create_index('ix_deadlines_case', 'deadlines', ['case_id'], unique=False)
    op.drop_index('ix_todos_team_status_due', table_name='todos')
    op.drop_index('ix_todos_assignee_status_due', table_name='todos')
    op.create_index('ix_todos_assignee_status_due', 'todos', ['assignee', 'status', 'due_at'], unique=False)
    op.drop_index('ix_cases_access', table_name='cases')
    op.drop_index('ix_cases_holder', table_name='cases')
