"""Exposure: one set-based PostGIS query giving every target input for all sites or a changed subset.

Where several layers of one kind are loaded (GeoNames and OpenStreetMap settlements, say), only the most recently
loaded one is counted, so nobody is counted twice; rivers and lakes count from every layer (nearest distance).

Distances are geodesic (``geography``), and every distance filter is ``ST_DWithin(geography(geom), ...)`` so the
GiST expression indexes ``ix_site_geog`` and ``ix_receptor_geog`` are used (see STACK-FACTS: a CAST would not).
"""

from __future__ import annotations

from typing import Iterable, Iterator

from sqlalchemy import Connection, text

from sites.scoring.method import Exposure
from sites.scoring.spread import settlement_radius_km
from sites.scoring.tables import value

# Towns above this size are few; only they are searched for beyond the near radius (6.4 km + 1.6 km).
BIG_TOWN = 20_000

# Built once; values are bound parameters, never formatted into the SQL, except the code constant BIG_TOWN, which
# must be a literal so the planner can use the partial index of large towns (ix_receptor_big_town_geog).
EXPOSURE_SQL = text(f"""
WITH active AS (  -- per kind, only the most recently loaded layer counts, so two sources never double count
    SELECT DISTINCT ON (kind) id FROM receptor_layer ORDER BY kind, loaded_at DESC, id DESC
), s AS (
    SELECT id, geography(geom) AS g FROM site
    WHERE NOT archived AND (CAST(:all_sites AS boolean) OR id = ANY(CAST(:ids AS integer[])))
)
SELECT s.id,
       pop.rings, pop.nearest,
       sens.counts,
       wells.rings AS well_rings,
       water.name AS water_name, water.km AS water_km,
       farm.nearby AS farmland
FROM s
LEFT JOIN LATERAL (
    SELECT ARRAY[coalesce(sum(p.population * c.c1), 0), coalesce(sum(p.population * (c.c2 - c.c1)), 0),
                 coalesce(sum(p.population * (c.c3 - c.c2)), 0), coalesce(sum(p.population * (c.c4 - c.c3)), 0),
                 coalesce(sum(p.population * (c.c5 - c.c4)), 0), coalesce(sum(p.population * (c.c6 - c.c5)), 0)
           ]::float8[] AS rings,
           (array_agg(json_build_object('name', p.name, 'population', p.population, 'km', p.d)
                      ORDER BY greatest(p.d - p.rad, 0), p.d))[1:3] AS nearest
    FROM (  -- towns small enough to lie within the near search, then the few large ones further out
        SELECT r.name, r.population, ST_Distance(geography(r.geom), s.g) / 1000.0 AS d,
               greatest(0.1, sqrt(r.population / (pi() * :density))) AS rad
        FROM receptor r
        WHERE r.kind = 'settlement' AND r.population > 0 AND r.population <= {BIG_TOWN}
          AND r.layer_id IN (SELECT id FROM active) AND ST_DWithin(geography(r.geom), s.g, :near_search_m)
        UNION ALL
        SELECT r.name, r.population, ST_Distance(geography(r.geom), s.g) / 1000.0 AS d,
               greatest(0.1, sqrt(r.population / (pi() * :density))) AS rad
        FROM receptor r
        WHERE r.kind = 'settlement' AND r.population > {BIG_TOWN}
          AND r.layer_id IN (SELECT id FROM active) AND ST_DWithin(geography(r.geom), s.g, :settlement_search_m)
        OFFSET 0  -- a fence: d and rad are computed once per town, and disk_share inlines on plain columns
    ) p
    CROSS JOIN LATERAL (
        SELECT disk_share(p.d, p.rad, :k1) AS c1, disk_share(p.d, p.rad, :k2) AS c2,
               disk_share(p.d, p.rad, :k3) AS c3, disk_share(p.d, p.rad, :k4) AS c4,
               disk_share(p.d, p.rad, :k5) AS c5, disk_share(p.d, p.rad, :k6) AS c6
    ) c
    WHERE p.d - p.rad <= :k6
) pop ON true
LEFT JOIN LATERAL (
    SELECT json_object_agg(kind, n) AS counts
    FROM (SELECT r.kind, count(*) AS n FROM receptor r
          WHERE r.kind IN ('school', 'kindergarten', 'hospital', 'maternity')
            AND r.layer_id IN (SELECT id FROM active) AND ST_DWithin(geography(r.geom), s.g, :sensitive_m)
          GROUP BY r.kind) k
) sens ON true
LEFT JOIN LATERAL (
    SELECT ARRAY[
             count(*) FILTER (WHERE w.m <= :e1), count(*) FILTER (WHERE w.m > :e1 AND w.m <= :e2),
             count(*) FILTER (WHERE w.m > :e2 AND w.m <= :e3), count(*) FILTER (WHERE w.m > :e3 AND w.m <= :e4),
             count(*) FILTER (WHERE w.m > :e4 AND w.m <= :e5), count(*) FILTER (WHERE w.m > :e5)]::float8[] AS rings
    FROM (SELECT ST_Distance(geography(r.geom), s.g) AS m FROM receptor r
          WHERE r.kind IN ('well', 'intake') AND r.layer_id IN (SELECT id FROM active) AND ST_DWithin(geography(r.geom), s.g, :e6)) w
) wells ON true
LEFT JOIN LATERAL (
    SELECT r.name, ST_Distance(geography(r.geom), s.g) / 1000.0 AS km
    FROM receptor r
    WHERE r.kind IN ('river', 'lake') AND ST_DWithin(geography(r.geom), s.g, :water_m)
    ORDER BY ST_Distance(geography(r.geom), s.g) LIMIT 1
) water ON true
LEFT JOIN LATERAL (
    SELECT EXISTS (SELECT 1 FROM receptor r WHERE r.kind = 'farmland'
                   AND ST_DWithin(geography(r.geom), s.g, :sensitive_m)) AS nearby
) farm ON true
""")


def parameters(site_ids: Iterable[int] | None, largest_settlement: float = 0.0) -> dict:
    """Bound parameters of EXPOSURE_SQL; ``largest_settlement`` sets how far to look for town edges."""
    edges = [km * 1000 for km in value("ring_edges_km")]
    params = {f"e{i}": edge for i, edge in enumerate(edges, start=1)}
    params.update({f"k{i}": km for i, km in enumerate(value("ring_edges_km"), start=1)})
    density, outer_km = value("settlement_density_per_km2"), value("ring_edges_km")[-1]
    params.update(
        density=density,
        near_search_m=(outer_km + settlement_radius_km(BIG_TOWN, density)) * 1000,
        settlement_search_m=(outer_km + settlement_radius_km(max(largest_settlement, BIG_TOWN), density)) * 1000,
        all_sites=site_ids is None, ids=list(site_ids or []),
        sensitive_m=value("sensitive_radius_km") * 1000, water_m=value("surface_water_limit_km") * 1000,
    )
    return params


def loaded_layers(conn: Connection) -> frozenset[str]:
    """Receptor kinds with at least one feature loaded."""
    return frozenset(conn.execute(text("SELECT DISTINCT kind FROM receptor_layer WHERE feature_count > 0")).scalars())


def largest_settlement(conn: Connection) -> float:
    """Population of the largest settlement in the counted settlement layer (0 when none)."""
    return conn.execute(text(
        "SELECT coalesce(max(population), 0) FROM receptor WHERE kind = 'settlement' AND layer_id = "
        "(SELECT id FROM receptor_layer WHERE kind = 'settlement' ORDER BY loaded_at DESC, id DESC LIMIT 1)"
    )).scalar()


def exposures(conn: Connection, site_ids: Iterable[int] | None = None) -> dict[int, Exposure]:
    """Exposure of every live site (or of ``site_ids``), keyed by site id."""
    return {site_id: exposure for chunk in stream_exposures(conn, site_ids) for site_id, exposure in chunk}


def stream_exposures(conn: Connection, site_ids: Iterable[int] | None = None,
                     chunk_size: int = 2000) -> Iterator[list[tuple[int, Exposure]]]:
    """Exposure in chunks from a server-side cursor, so scoring can start before the query ends."""
    layers = loaded_layers(conn)
    params = parameters(site_ids, largest_settlement(conn))
    # PostGIS functions' high declared costs make the planner JIT-compile this query: about 1.5 s spent per run,
    # measured, for nothing gained (see docs/benchmarks.md). LOCAL: only for this transaction.
    conn.execute(text("SET LOCAL jit = off"))
    result = conn.execute(EXPOSURE_SQL, params, execution_options={"yield_per": chunk_size}).mappings()
    for rows in result.partitions(chunk_size):  # without a size SQLAlchemy sends FETCH FORWARD ALL
        yield [(row["id"], _exposure(row, layers)) for row in rows]


def _exposure(row, layers: frozenset[str]) -> Exposure:
    return Exposure(
        ring_population=tuple(row["rings"] or (0.0,) * 6),
        settlements=tuple((n["name"] or "unnamed", n["population"], n["km"]) for n in row["nearest"] or []),
        sensitive=dict(row["counts"] or {}),
        ring_wells=tuple(row["well_rings"] or (0.0,) * 6),
        surface_water_km=row["water_km"], surface_water_name=row["water_name"],
        farmland_nearby=bool(row["farmland"]), layers=layers,
    )
