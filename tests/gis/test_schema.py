"""The schema built by migrations: it matches the tables module and refuses bad rows by itself."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from gis.tables import metadata
from sites.regions import REGIONS

SHA = "'" + "a" * 64 + "'"
POINT = "ST_SetSRID(ST_MakePoint(76.9, 52.3), 4326)"


def insert_site(conn, **columns):
    values = {"code": "'KZ-PAV-0001'", "name_en": "'x'", "geom": POINT, "location_precision": "'settlement'",
              "activity": "'other'", "geom_sha256": SHA}
    values.update(columns)
    conn.execute(text(f"INSERT INTO site ({', '.join(values)}) VALUES ({', '.join(values.values())})"))


# Alembic cannot compare an expression index with an operator class (the trigram name index); it still checks the
# index exists by name, and says so in this warning.
@pytest.mark.filterwarnings("ignore:Expression #1 .* operator clause:UserWarning")
def test_migrated_schema_matches_the_tables_module(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": alembic_helpers.include_object})
        assert compare_metadata(context, metadata) == []


def test_regions_seeded_by_migration_match_the_domain(engine):
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kato, iso, name_en, name_ru, name_kk FROM region ORDER BY kato")).all()
    assert [tuple(r) for r in rows] == [(r.kato, r.iso, r.name_en, r.name_ru, r.name_kk) for r in REGIONS]


@pytest.mark.parametrize("column, value, constraint", [
    ("geom", "ST_SetSRID(ST_MakePoint(200, 52), 4326)", "ck_site_geom_in_range"),
    ("footprint", "ST_GeomFromText('MULTIPOLYGON(((76 52, 77 53, 77 52, 76 53, 76 52)))', 4326)", "ck_site_footprint_valid"),
    ("stage", "'finished'", "ck_site_stage"),
    ("activity", "'brewery'", "ck_site_activity"),
    ("waste_mass_t", "-5", "ck_site_waste_mass_t_non_negative"),
    ("code", "'PAV-1'", "ck_site_code_format"),
])
def test_database_refuses_bad_site_rows(engine, column, value, constraint):
    with pytest.raises(IntegrityError, match=constraint):
        with engine.begin() as conn:
            insert_site(conn, **{column: value})


def test_database_refuses_wrong_srid_and_geometry_type(engine):
    from sqlalchemy.exc import DataError

    with pytest.raises((DataError, IntegrityError)):
        with engine.begin() as conn:
            insert_site(conn, geom="ST_SetSRID(ST_MakePoint(76.9, 52.3), 3857)")
    with pytest.raises((DataError, IntegrityError)):
        with engine.begin() as conn:
            insert_site(conn, geom="ST_GeomFromText('LINESTRING(76 52, 77 53)', 4326)")


def test_database_refuses_negative_sample_values(engine):
    with engine.begin() as conn:
        insert_site(conn)
        conn.execute(text("INSERT INTO contaminant (code, name_en, name_ru, name_kk, grp, source) "
                          "VALUES ('hg', 'mercury', 'ртуть', 'сынап', 'metal', 't')"))
    with pytest.raises(IntegrityError, match="ck_sample_value_non_negative"):
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO sample (site_id, contaminant, medium, value, unit, value_canonical, unit_canonical, "
                "created_by) SELECT id, 'hg', 'soil', -1, 'mg/kg', 0, 'mg/kg', 't' FROM site"))


def test_sites_layer_is_registered_as_point_4326(engine):
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT type, srid FROM geometry_columns WHERE f_table_name = 'sites' AND f_geometry_column = 'geom'"
        )).one()
        columns = set(conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'sites'")).scalars())
    assert tuple(row) == ("POINT", 4326)
    assert {"code", "name", "region", "workflow_stage", "priority_class", "score"} <= columns


def test_distance_query_uses_the_geography_index(engine):
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO site (code, name_en, geom, location_precision, activity, geom_sha256) "
            "SELECT 'KZ-PAV-' || lpad(i::text, 4, '0'), 's' || i, "
            "ST_SetSRID(ST_MakePoint(50 + (i % 100) * 0.35, 41 + (i / 100) * 0.14), 4326), "
            f"'settlement', 'other', {SHA} FROM generate_series(1, 9999) AS i"))
        conn.execute(text("ANALYZE site"))
        plan = conn.execute(text(
            "EXPLAIN SELECT count(*) FROM site WHERE ST_DWithin(geography(geom), "
            "geography(ST_SetSRID(ST_MakePoint(67, 48), 4326)), 5000)")).scalars().all()
    assert any("ix_site_geog" in line for line in plan), "\n".join(plan)
