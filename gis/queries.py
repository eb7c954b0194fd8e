"""Read queries the app and exports share: built as SQLAlchemy expressions, run with bound parameters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from gis import tables as t

MAX_MAP_SITES = 200_000


def map_sites(engine: Engine) -> list[dict[str, Any]]:
    """Live sites for the map: code, names, stage, class, location and contaminant names."""
    view = t.sites_view
    names = (
        select(func.string_agg(func.distinct(t.contaminant.c.name_en), ", "))
        .select_from(t.site_contaminant.join(t.contaminant))
        .where(t.site_contaminant.c.site_id == view.c.id)
        .scalar_subquery()
    )
    query = select(
        view.c.code, view.c.name, view.c.region, view.c.workflow_stage, view.c.priority_class, view.c.score,
        view.c.location_precision, func.ST_Y(view.c.geom).label("lat"), func.ST_X(view.c.geom).label("lon"),
        names.label("contaminants"),
    ).order_by(view.c.code).limit(MAX_MAP_SITES)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def receptor_points(engine: Engine, kind: str) -> list[dict[str, Any]]:
    """Point receptors of one kind (settlements, schools, wells...) for a switchable map layer."""
    query = (
        select(t.receptor.c.name, t.receptor.c.population,
               func.ST_Y(func.ST_PointOnSurface(t.receptor.c.geom)).label("lat"),
               func.ST_X(func.ST_PointOnSurface(t.receptor.c.geom)).label("lon"))
        .where(t.receptor.c.kind == kind)
        .order_by(t.receptor.c.id)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
