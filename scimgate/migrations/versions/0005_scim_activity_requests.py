"""scim activity: a request count per row

Unauthenticated requests are no longer recorded one row each: they are folded into one row per
minute and status whose ``requests`` column counts them (issue 16), so anonymous traffic cannot
push the IdP's own requests out of the table. Existing rows count one request each.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 07:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scim_activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requests', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('scim_activity', schema=None) as batch_op:
        batch_op.drop_column('requests')
