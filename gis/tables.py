"""Table definitions (SQLAlchemy Core + GeoAlchemy2) matching what the Alembic migrations build."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData,
    String, Table, Text, UniqueConstraint, func, text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from sites import vocab

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """CHECK that ``column`` holds one of ``values`` (NULL allowed; NOT NULL says otherwise)."""
    listed = ", ".join("'" + v + "'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


def non_negative(*columns: str) -> list[CheckConstraint]:
    return [CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative") for c in columns]


def point(nullable: bool = False) -> Geometry:
    return Geometry("POINT", srid=4326, spatial_index=False, nullable=nullable)


def created_at() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


region = Table(
    "region", metadata,
    Column("kato", String(9), primary_key=True),
    Column("iso", String(6), nullable=False, unique=True),
    Column("name_en", Text, nullable=False),
    Column("name_ru", Text, nullable=False),
    Column("name_kk", Text, nullable=False),
)

boundary = Table(
    "boundary", metadata,
    Column("id", Integer, primary_key=True),
    Column("level", Text, nullable=False),
    Column("kato", String(9), nullable=False),
    Column("parent_kato", String(9)),
    Column("name_en", Text),
    Column("name_ru", Text),
    Column("name_kk", Text),
    Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False, nullable=False), nullable=False),
    Column("source", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("level", "kato"),
    one_of("level", vocab.BOUNDARY_LEVEL),
    CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
    Index("ix_boundary_geom", "geom", postgresql_using="gist"),
)

site = Table(
    "site", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(11), nullable=False, unique=True),
    Column("name_en", Text),
    Column("name_ru", Text),
    Column("name_kk", Text),
    Column("description", Text),
    Column("geom", point(), nullable=False),
    Column("footprint", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)),
    Column("location_precision", Text, nullable=False),
    Column("location_note", Text),
    Column("region_kato", String(9), ForeignKey("region.kato")),
    Column("district_kato", String(9)),
    Column("activity", Text, nullable=False),
    Column("operating_from", Integer),
    Column("operating_to", Integer),
    Column("operator", Text),
    Column("owner_status", Text, nullable=False, server_default="unknown"),
    Column("land_use", Text),
    Column("area_ha", Float),
    Column("waste_volume_m3", Float),
    Column("waste_mass_t", Float),
    Column("containment", Text, nullable=False, server_default="unknown"),
    Column("accessibility", Text, nullable=False, server_default="unknown"),
    Column("stage", Text, nullable=False, server_default="suspected"),
    Column("remediation_cost_kzt", Float),
    Column("funding", Text),
    Column("remediation_deadline", Date),
    Column("confidential", Boolean, nullable=False, server_default=text("false")),
    Column("sources", Text),
    Column("geom_sha256", String(64), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("archived", Boolean, nullable=False, server_default=text("false")),
    created_at(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("code ~ '^KZ-[A-Z]{3}-[0-9]{4}$'", name="code_format"),
    CheckConstraint("coalesce(name_en, name_ru, name_kk) IS NOT NULL", name="has_name"),
    CheckConstraint("ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90", name="geom_in_range"),
    CheckConstraint("footprint IS NULL OR (ST_IsValid(footprint) AND NOT ST_IsEmpty(footprint))", name="footprint_valid"),
    CheckConstraint(
        "footprint IS NULL OR (ST_XMin(footprint) >= -180 AND ST_XMax(footprint) <= 180 "
        "AND ST_YMin(footprint) >= -90 AND ST_YMax(footprint) <= 90)",
        name="footprint_in_range",
    ),
    CheckConstraint("operating_from IS NULL OR operating_to IS NULL OR operating_from <= operating_to",
                    name="operating_period"),
    CheckConstraint("geom_sha256 ~ '^[0-9a-f]{64}$'", name="geom_sha256_hex"),
    CheckConstraint("version >= 1", name="version_positive"),
    one_of("location_precision", vocab.LOCATION_PRECISION),
    one_of("activity", vocab.ACTIVITY),
    one_of("owner_status", vocab.OWNER_STATUS),
    one_of("containment", vocab.CONTAINMENT),
    one_of("accessibility", vocab.ACCESSIBILITY),
    one_of("stage", vocab.STAGE),
    *non_negative("area_ha", "waste_volume_m3", "waste_mass_t", "remediation_cost_kzt"),
    Index("ix_site_geom", "geom", postgresql_using="gist"),
    Index("ix_site_geog", func.geography(text("geom")), postgresql_using="gist"),
    Index("ix_site_footprint", "footprint", postgresql_using="gist"),
    Index("ix_site_region_kato", "region_kato"),
    # The duplicate check's "similar name" (pg_trgm, migration 0003); the expression is gis.duplicates' NAMES.
    Index("ix_site_names_trgm", text(
        "lower(coalesce(name_en, '') || ' ' || coalesce(name_ru, '') || ' ' || coalesce(name_kk, '')) gin_trgm_ops"),
        postgresql_using="gin"),
)

contaminant = Table(
    "contaminant", metadata,
    Column("code", String(40), primary_key=True),
    Column("cas", String(12), unique=True),
    Column("name_en", Text, nullable=False),
    Column("name_ru", Text, nullable=False),
    Column("name_kk", Text, nullable=False),
    Column("grp", Text, nullable=False),
    Column("stockholm_annex", Text),
    Column("minamata", Boolean, nullable=False, server_default=text("false")),
    Column("rotterdam_annex3", Boolean, nullable=False, server_default=text("false")),
    Column("basel_y", Text),
    Column("source", Text, nullable=False),
    CheckConstraint("cas ~ '^[0-9]{2,7}-[0-9]{2}-[0-9]$'", name="cas_format"),
    CheckConstraint("stockholm_annex ~ '^[ABC](;[ABC])*$'", name="stockholm_annex"),
    CheckConstraint("basel_y ~ '^Y[0-9]{1,2}(;Y[0-9]{1,2})*$'", name="basel_y"),
    one_of("grp", vocab.CONTAMINANT_GROUP),
)

guideline_set = Table(
    "guideline_set", metadata,
    Column("code", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("jurisdiction", Text, nullable=False),
    Column("year", Integer),
    Column("source", Text, nullable=False),
)

guideline_value = Table(
    "guideline_value", metadata,
    Column("id", Integer, primary_key=True),
    Column("set_code", String(40), ForeignKey("guideline_set.code"), nullable=False),
    Column("contaminant", String(40), ForeignKey("contaminant.code"), nullable=False),
    Column("medium", Text, nullable=False),
    Column("land_use", Text, nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", Text, nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("source", Text, nullable=False),
    UniqueConstraint("set_code", "contaminant", "medium", "land_use"),
    CheckConstraint("value > 0", name="value_positive"),
    one_of("medium", vocab.MEDIUM),
)

site_contaminant = Table(
    "site_contaminant", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("contaminant", String(40), ForeignKey("contaminant.code"), nullable=False),
    Column("medium", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("quantity_t", Float),
    Column("evidence", Text),
    Column("source", Text),
    UniqueConstraint("site_id", "contaminant", "medium"),
    one_of("medium", vocab.MEDIUM),
    one_of("status", vocab.CONTAMINANT_STATUS),
    *non_negative("quantity_t"),
)

sample = Table(
    "sample", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("contaminant", String(40), ForeignKey("contaminant.code"), nullable=False),
    Column("medium", Text, nullable=False),
    Column("depth_m", Float),
    Column("sampled_on", Date),
    Column("sampled_year", Integer),
    Column("value", Float, nullable=False),
    Column("unit", Text, nullable=False),
    Column("qualifier", String(1), nullable=False, server_default="="),
    Column("detection_limit", Float),
    Column("laboratory", Text),
    Column("source", Text),
    Column("note", Text),
    Column("value_canonical", Float, nullable=False),
    Column("unit_canonical", Text, nullable=False),
    Column("geom", point(nullable=True)),
    created_at(),
    Column("created_by", Text, nullable=False),
    one_of("medium", vocab.MEDIUM),
    one_of("qualifier", vocab.QUALIFIER),
    *non_negative("depth_m", "value", "detection_limit", "value_canonical"),
    Index("ix_sample_site_id", "site_id"),
)

inspection = Table(
    "inspection", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("inspected_on", Date, nullable=False),
    Column("inspector", Text, nullable=False),
    Column("findings", Text),
    Column("condition", Text),
    created_at(),
    one_of("condition", vocab.CONTAINMENT),
    Index("ix_inspection_site_id", "site_id"),
)

attachment = Table(
    "attachment", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("inspection_id", Integer, ForeignKey("inspection.id")),
    Column("filename", Text, nullable=False),
    Column("media_type", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("geotag", point(nullable=True)),
    Column("storage_path", Text, nullable=False),
    Column("thumbnail_path", Text),
    created_at(),
    Column("created_by", Text),
    CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
    *non_negative("size_bytes"),
)

receptor_layer = Table(
    "receptor_layer", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("licence", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("feature_count", Integer, nullable=False),
    UniqueConstraint("kind", "name"),
    one_of("kind", vocab.RECEPTOR_KIND),
    *non_negative("feature_count"),
)

receptor = Table(
    "receptor", metadata,
    Column("id", Integer, primary_key=True),
    Column("layer_id", Integer, ForeignKey("receptor_layer.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("name", Text),
    Column("population", Integer),
    Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=False, nullable=False), nullable=False),
    one_of("kind", vocab.RECEPTOR_KIND),
    CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
    *non_negative("population"),
    Index("ix_receptor_geom", "geom", postgresql_using="gist"),
    Index("ix_receptor_geog", func.geography(text("geom")), postgresql_using="gist"),
    Index("ix_receptor_layer_id_population", "layer_id", "population"),
    Index("ix_receptor_big_town_geog", func.geography(text("geom")), postgresql_using="gist",
          postgresql_where=text("kind = 'settlement' AND population > 20000")),
)

score = Table(
    "score", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("method", Text, nullable=False),
    Column("method_version", Text, nullable=False),
    Column("guideline_set", String(40), ForeignKey("guideline_set.code")),
    Column("computed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("pathways", JSONB, nullable=False),
    Column("hazard", Float),
    Column("exposure", Float),
    Column("total", Float, nullable=False),
    Column("priority_class", String(1), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("explanation", JSONB, nullable=False),
    one_of("priority_class", vocab.PRIORITY_CLASS),
    CheckConstraint("confidence BETWEEN 0 AND 1", name="confidence_share"),
    *non_negative("total"),
    Index("ix_score_site_id_computed_at", "site_id", "computed_at"),
)

app_user = Table(
    "app_user", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", Text),
    Column("password_hash", Text),
    Column("role", Text, nullable=False),
    Column("regions", ARRAY(String(9)), nullable=False, server_default=text("'{}'")),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    created_at(),
    # Sign-in (migration 0006): wrong passwords in a row, lockout, last password change, single sign-on email.
    Column("failed_logins", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", DateTime(timezone=True)),
    Column("password_changed_at", DateTime(timezone=True)),
    Column("email", Text),
    one_of("role", vocab.ROLES),
    *non_negative("failed_logins"),
    Index("ix_app_user_email", func.lower(text("email")), unique=True),
)

audit = Table(
    "audit", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("entity", Text, nullable=False),
    Column("entity_id", Text, nullable=False),
    Column("before", JSONB),
    Column("after", JSONB),
    Column("geom_sha256", String(64)),  # the site's geometry hash when the row was written (migration 0005)
    one_of("action", vocab.AUDIT_ACTION),
    Index("ix_audit_entity_entity_id", "entity", "entity_id"),
    Index("ix_audit_actor", "actor"),
    Index("ix_audit_at", "at"),
    # A site's full history: its samples', contaminants', inspections' and attachments' rows (migration 0004).
    Index("ix_audit_site_children", text("(after ->> 'site_id')"),
          postgresql_where=text("entity IN ('site_contaminant', 'sample', 'inspection', 'attachment')")),
)

import_batch = Table(
    "import_batch", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("target", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("mapping", JSONB, nullable=False),
    Column("rows_read", Integer, nullable=False),
    Column("imported", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("report", JSONB, nullable=False),
    Column("created_by", Text, nullable=False),
    created_at(),
    one_of("target", ("site", "sample", "odk")),
    one_of("mode", ("all", "valid")),
    CheckConstraint("file_sha256 ~ '^[0-9a-f]{64}$'", name="file_sha256_hex"),
    CheckConstraint("rows_read = imported + unchanged + rejected", name="rows_add_up"),
)

# One row per imported source row: re-importing a file finds its rows here and changes nothing.
import_record = Table(
    "import_record", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("batch_id", Integer, ForeignKey("import_batch.id"), nullable=False),
    Column("source", Text, nullable=False),
    Column("row_key", Text, nullable=False),
    Column("row_sha256", String(64), nullable=False),
    Column("entity", Text, nullable=False),
    Column("entity_id", Integer, nullable=False),
    one_of("entity", ("site", "sample", "inspection")),
    UniqueConstraint("source", "row_key", "entity"),
    Index("ix_import_record_entity_entity_id", "entity", "entity_id"),
)

# The `sites` view built by migration 0001, declared here so queries can name its columns.
sites_view = Table(
    "sites", MetaData(),
    Column("id", Integer), Column("code", String), Column("name", Text), Column("name_ru", Text),
    Column("name_kk", Text), Column("region", Text), Column("region_kato", String), Column("activity", Text),
    Column("workflow_stage", Text), Column("location_precision", Text), Column("priority_class", String),
    Column("score", Float), Column("geom", point()),
)
