"""Export the live sites layer to GeoJSON, GeoPackage or CSV, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import geopandas as gpd
from sqlalchemy import Engine, select

from gis import tables as t
from sites.errors import InvalidInput

FORMATS = {"geojson": ("GeoJSON", ".geojson"), "gpkg": ("GPKG", ".gpkg"), "csv": ("CSV", ".csv")}
LAYER_COLUMNS = ("code", "name", "name_ru", "name_kk", "region", "region_kato", "activity", "workflow_stage",
                 "location_precision", "priority_class", "score")


def sites_frame(engine: Engine) -> gpd.GeoDataFrame:
    """The `sites` layer (live sites with their latest score) as a GeoDataFrame in EPSG:4326."""
    view = t.sites_view
    query = select(*(view.c[c] for c in LAYER_COLUMNS), view.c.geom).order_by(view.c.code)
    with engine.connect() as conn:
        return gpd.read_postgis(query, conn, geom_col="geom", crs="EPSG:4326")


def export_sites(engine: Engine, fmt: str, path: Path) -> int:
    """Write every live site to ``path`` in ``fmt``; return the number of sites written."""
    if fmt not in FORMATS:
        raise InvalidInput("format", fmt, "one of " + ", ".join(FORMATS))
    path = Path(path)
    if not path.parent.is_dir():
        raise InvalidInput("output", str(path), "a file in an existing folder")
    frame = sites_frame(engine)
    driver, suffix = FORMATS[fmt]
    handle, temporary = tempfile.mkstemp(suffix=suffix, dir=path.parent)
    os.close(handle)
    os.unlink(temporary)  # GDAL refuses to overwrite some formats; let it create the file
    try:
        if fmt == "csv":
            frame.assign(lat=frame.geometry.y, lon=frame.geometry.x).drop(columns="geom").to_csv(temporary, index=False)
        else:
            frame.to_file(temporary, driver=driver, layer="sites")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return len(frame)
