"""Receptor layers (settlements, wells, rivers...): replaced atomically, each with its source and licence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import shapely
from sqlalchemy import Engine, delete, insert, select, text

from gis import tables as t
from gis.services import write_audit
from sites import vocab
from sites.errors import InvalidInput
from sites.permissions import Actor, require


@dataclass(frozen=True)
class Feature:
    """One receptor: a name, a population where it applies, and a geometry in EPSG:4326."""

    name: str | None
    population: int | None
    geom: shapely.Geometry


def replace_receptor_layer(engine: Engine, actor: Actor, kind: str, name: str, source: str, licence: str,
                           features: Iterable[Feature]) -> int:
    """Replace the layer ``(kind, name)`` with ``features`` in one transaction; return the feature count.

    Readers see either the old layer or the new one, never a half-loaded mix.
    """
    require(actor, "manage_layers")
    if kind not in vocab.RECEPTOR_KIND:
        raise InvalidInput("kind", kind, "one of " + ", ".join(vocab.RECEPTOR_KIND))
    rows = [_row(kind, number, f) for number, f in enumerate(features, start=1)]
    with engine.begin() as conn:
        old = conn.execute(
            select(t.receptor_layer).where(t.receptor_layer.c.kind == kind, t.receptor_layer.c.name == name)
        ).mappings().first()
        if old is not None:
            conn.execute(delete(t.receptor_layer).where(t.receptor_layer.c.id == old["id"]))
        meta = {"kind": kind, "name": name, "source": source, "licence": licence, "feature_count": len(rows)}
        layer_id = conn.execute(insert(t.receptor_layer).values(**meta).returning(t.receptor_layer.c.id)).scalar_one()
        if rows:
            conn.execute(insert(t.receptor), [dict(r, layer_id=layer_id) for r in rows])
            _subdivide(conn, layer_id)
        write_audit(conn, actor, "update" if old else "insert", "receptor_layer", layer_id,
               dict(old) if old else None, meta)
    from gis.scoring import rescore_changed  # a new layer changes every site's exposure

    rescore_changed(engine, None)
    return len(rows)


# A river thousands of vertices long has a bounding box the size of a region: every distance query near it would
# test the whole line. Stored in pieces of at most this many vertices, the geography index finds only nearby pieces.
MAX_VERTICES = 64


def _subdivide(conn, layer_id: int) -> None:
    conn.execute(text("""
        WITH long AS (
            DELETE FROM receptor WHERE layer_id = :layer AND ST_NPoints(geom) > :most
            RETURNING kind, name, population, geom
        )
        INSERT INTO receptor (layer_id, kind, name, population, geom)
        SELECT :layer, kind, name, population, ST_Subdivide(geom, :most) FROM long
    """), {"layer": layer_id, "most": MAX_VERTICES})


def _row(kind: str, number: int, feature: Feature) -> dict:
    geom = feature.geom
    if geom is None or geom.is_empty or not geom.is_valid:
        reason = "empty" if geom is None or geom.is_empty else shapely.is_valid_reason(geom)
        raise InvalidInput(f"feature {number} geometry", reason, "a valid, non-empty geometry")
    if feature.population is not None and feature.population < 0:
        raise InvalidInput(f"feature {number} population", feature.population, "a number of people >= 0")
    return {"kind": kind, "name": feature.name, "population": feature.population,
            "geom": f"SRID=4326;{geom.wkt}"}


def layers(engine: Engine) -> list[dict]:
    """Loaded receptor layers with their sources, for the map's layer switch and credits."""
    with engine.connect() as conn:
        query = select(t.receptor_layer).order_by(t.receptor_layer.c.kind, t.receptor_layer.c.name)
        return [dict(r) for r in conn.execute(query).mappings()]
