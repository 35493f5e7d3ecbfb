"""saml used assertions: each assertion id signs in once

IdP-initiated (unsolicited) SAML sign-in answers no stored request, so the one-time rule moves to
the assertion itself (issue 17): a row per used assertion id, kept until the assertion expires.

Revision ID: 0006_saml_used_assertion
Revises: 0005
Create Date: 2026-12-04 08:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_saml_used_assertion'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saml_used_assertion',
    sa.Column('assertion_id', sa.String(length=255), nullable=False),
    sa.Column('expires', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('assertion_id', name=op.f('pk_saml_used_assertion'))
    )
    with op.batch_alter_table('saml_used_assertion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saml_used_assertion_expires'), ['expires'], unique=False)


def downgrade():
    with op.batch_alter_table('saml_used_assertion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saml_used_assertion_expires'))

    op.drop_table('saml_used_assertion')
