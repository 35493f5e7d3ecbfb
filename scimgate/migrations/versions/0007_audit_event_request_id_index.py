"""audit event: an index on request_id

The SCIM activity page links each request to the audit events it caused, and each audit event back
to its request, by request id (issue 17). The audit trail keeps every change for
``AUDIT_RETENTION_DAYS`` (it is not capped by row count like ``scim_activity``), so looking events
up by request id needs an index; without it each lookup would scan the whole trail.

Revision ID: 0007
Revises: 0006_saml_used_assertion
Create Date: 2026-12-04 08:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006_saml_used_assertion'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_request_id', ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_request_id')
