"""scim activity reason

Adds ``scim_activity.reason``: why a refused SCIM request was refused, the same text as its
``request.refused`` line in scim-debug.log (issue 17), for the admin's activity view. Nullable:
rows written before, and successes, have none.

Revision ID: 0004
Revises: 0003_web_session
Create Date: 2026-12-04 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003_web_session'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scim_activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('scim_activity', schema=None) as batch_op:
        batch_op.drop_column('reason')
