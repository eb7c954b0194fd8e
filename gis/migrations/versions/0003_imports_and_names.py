"""Bulk-import provenance (batches and one record per imported row), trigram name search, attachment thumbnails.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Every name of a site in one string, for the duplicate check ("a similar name is already registered").
NAMES = "lower(coalesce(name_en, '') || ' ' || coalesce(name_ru, '') || ' ' || coalesce(name_kk, ''))"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(f"CREATE INDEX ix_site_names_trgm ON site USING gin (({NAMES}) gin_trgm_ops)")
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("mapping", postgresql.JSONB(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("report", postgresql.JSONB(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("target IN ('site', 'sample', 'odk')", name=op.f("ck_import_batch_target")),
        sa.CheckConstraint("mode IN ('all', 'valid')", name=op.f("ck_import_batch_mode")),
        sa.CheckConstraint("file_sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_import_batch_file_sha256_hex")),
        sa.CheckConstraint("rows_read = imported + unchanged + rejected", name=op.f("ck_import_batch_rows_add_up")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
    )
    op.create_table(
        "import_record",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id", name=op.f("fk_import_record_batch_id")),
                  nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=False),
        sa.Column("row_sha256", sa.String(64), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("entity IN ('site', 'sample', 'inspection')", name=op.f("ck_import_record_entity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_record")),
        sa.UniqueConstraint("source", "row_key", "entity", name=op.f("uq_import_record_source_row_key_entity")),
    )
    op.create_index("ix_import_record_entity_entity_id", "import_record", ["entity", "entity_id"])
    op.add_column("attachment", sa.Column("thumbnail_path", sa.Text(), nullable=True))
    op.add_column("attachment", sa.Column("created_by", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("attachment", "created_by")
    op.drop_column("attachment", "thumbnail_path")
    op.drop_index("ix_import_record_entity_entity_id", table_name="import_record")
    op.drop_table("import_record")
    op.drop_table("import_batch")
    op.execute("DROP INDEX ix_site_names_trgm")
