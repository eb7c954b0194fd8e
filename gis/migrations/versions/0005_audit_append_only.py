"""The audit trail is append-only, stamped by the database, and every site row carries the geometry's SHA-256.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CHILDREN = "('site_contaminant', 'sample', 'inspection', 'attachment')"  # gis.services.CHILD_ENTITIES

# Existing rows: a site row's own hash; a child row (sample, inspection...) the hash of the site's latest row
# written before it, i.e. the geometry the site had when the child was recorded.
BACKFILL_SITES = """
UPDATE audit SET geom_sha256 = coalesce(after ->> 'geom_sha256', before ->> 'geom_sha256')
 WHERE entity = 'site'
"""
BACKFILL_CHILDREN = f"""
UPDATE audit c SET geom_sha256 = (
  SELECT s.geom_sha256 FROM audit s
   WHERE s.entity = 'site' AND s.entity_id = c.after ->> 'site_id' AND s.id < c.id
   ORDER BY s.id DESC LIMIT 1)
 WHERE c.entity IN {CHILDREN}
"""

# Every new row gets the database's clock (a writer cannot back-date it) and the SHA-256 of its site's geometry
# as stored at that moment, whoever writes it (services, bulk import, boundary reassignment, future code).
STAMP = f"""
CREATE FUNCTION audit_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE site_ref text;
BEGIN
  NEW.at := now();
  site_ref := CASE WHEN NEW.entity = 'site' THEN NEW.entity_id
                   WHEN NEW.entity IN {CHILDREN} THEN NEW.after ->> 'site_id' END;
  IF site_ref ~ '^[0-9]{{1,9}}$' THEN
    SELECT s.geom_sha256 INTO NEW.geom_sha256 FROM public.site s WHERE s.id = site_ref::integer;
  END IF;
  RETURN NEW;
END $$
"""

# Statement-level, so even an UPDATE or DELETE matching no row is refused: the intent is the error.
REFUSE = """
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % on table audit is refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'audit rows are only ever added; a correction is a new change, audited in its turn';
END $$
"""


def upgrade() -> None:
    op.add_column("audit", sa.Column("geom_sha256", sa.String(64), nullable=True))
    op.create_index("ix_audit_at", "audit", ["at"])
    op.execute(BACKFILL_SITES)
    op.execute(BACKFILL_CHILDREN)
    op.execute(STAMP)
    op.execute(REFUSE)
    op.execute("CREATE TRIGGER audit_stamp BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_stamp()")
    op.execute("CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()")


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_append_only ON audit")
    op.execute("DROP TRIGGER audit_stamp ON audit")
    op.execute("DROP FUNCTION audit_refuse_change()")
    op.execute("DROP FUNCTION audit_stamp()")
    op.drop_index("ix_audit_at", table_name="audit")
    op.drop_column("audit", "geom_sha256")
