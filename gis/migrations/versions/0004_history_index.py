"""Index audit rows of a site's samples, contaminants, inspections and attachments by the site they belong to.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A site's full history (Register.history) reads these rows by after->>'site_id'.
    op.execute("CREATE INDEX ix_audit_site_children ON audit ((after ->> 'site_id')) "
               "WHERE entity IN ('site_contaminant', 'sample', 'inspection', 'attachment')")


def downgrade() -> None:
    op.execute("DROP INDEX ix_audit_site_children")
