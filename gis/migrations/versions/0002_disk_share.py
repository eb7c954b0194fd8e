"""disk_share (share of a settlement disk within a distance of a site, see sites/scoring/spread.py); population index.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE FUNCTION disk_share(d float8, r float8, x float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$  -- not STRICT, so the planner can inline it
    SELECT CASE
        WHEN x <= 0 OR d >= x + r THEN 0.0
        WHEN d + r <= x THEN 1.0
        WHEN d + x <= r THEN (x * x) / (r * r)
        ELSE least(1.0, greatest(0.0, (
              x * x * acos(least(1.0, greatest(-1.0, (d * d + x * x - r * r) / (2 * d * x))))
            + r * r * acos(least(1.0, greatest(-1.0, (d * d + r * r - x * x) / (2 * d * r))))
            - 0.5 * sqrt(greatest(0.0, (-d + x + r) * (d + x - r) * (d - x + r) * (d + x + r)))
        ) / (pi() * r * r)))
    END
$$
""")
    # The largest town of a layer sets how far exposure looks; this index answers it without a scan.
    op.create_index("ix_receptor_layer_id_population", "receptor", ["layer_id", "population"])
    op.drop_index("ix_receptor_layer_id", table_name="receptor")  # the new index leads with layer_id
    # Exposure looks further for large towns (their disks reach further); this keeps that search to large towns.
    op.execute("CREATE INDEX ix_receptor_big_town_geog ON receptor USING gist (geography(geom)) "
               "WHERE kind = 'settlement' AND population > 20000")


def downgrade() -> None:
    op.drop_index("ix_receptor_big_town_geog", table_name="receptor")
    op.create_index("ix_receptor_layer_id", "receptor", ["layer_id"])
    op.drop_index("ix_receptor_layer_id_population", table_name="receptor")
    op.execute("DROP FUNCTION disk_share(float8, float8, float8)")
