"""event contact: the form of contact of a recorded job conversation or offer, and who held it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 14:00:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Issue 13 item 4: an event recorded on a case keeps its date, form of contact and who held it.
    # Events recorded before keep NULL: their form and holder were never asked for.
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_form', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('held_by', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_column('held_by')
        batch_op.drop_column('contact_form')
