"""A small location map for a site passport, drawn the way the print maps are (gis/printmap_draw.py).

The map reads what ``gis.printmap.map_content`` reads around one site (boundaries, water, towns) plus the other
register sites in view, and draws them with the print map's own layer, marker, scale bar and north arrow routines
on a small figure, returned as a PNG to embed in the passport. The print map's settings apply: DejaVu Sans, and
mathtext off, so a name such as ``$x$`` is drawn as typed.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from shapely.geometry import box
from sqlalchemy import Engine, func, select

from gis import tables as t
from gis.printmap import _towns, map_content
from gis.printmap_draw import RC, RENDERING, Page, _frame, _layers, _north_arrow, _scale_bar, _sites, _view, lambert

DPI = 220
HALF_HEIGHT_KM = 11.0  # the map shows some 22 km north to south around the site, wider east to west
TOWNS = 12
NEIGHBOURS = 25  # other register sites drawn, nearest first


@dataclass(frozen=True)
class _Inset(Page):
    """A map-sized "page" whose type and line sizes stay readable: the print map scales them with the sheet."""

    size: float = 0.95

    @property
    def k(self) -> float:
        return self.size


@dataclass(frozen=True)
class LocationMap:
    png: bytes
    sources: tuple[str, ...]  # the layers drawn besides the register's sites, each with its source
    scale: int
    neighbours: tuple[str, ...]


def location_map(engine: Engine, code: str, lang: str, width_mm: float, height_mm: float,
                 on: date | None = None) -> LocationMap:
    """Site ``code`` ringed, with the register's other sites, towns, water and boundaries around it, as a PNG
    of ``width_mm`` x ``height_mm``."""
    aspect = width_mm / height_mm
    content = map_content(engine, codes=[code], lang=lang, on=on, aspect=aspect)
    site = content.sites.geometry.iloc[0]
    area = _area(site.x, site.y, aspect)
    neighbours = _neighbours(engine, code, area, lang)
    towns, _ = _towns(engine, area, TOWNS)
    if len(towns):
        content.layers["towns"] = towns
    content.sites = pd.concat([content.sites, neighbours], ignore_index=True)
    content.focus = gpd.GeoSeries([box(*area)], crs="EPSG:4326")
    png, scale = _draw(content, site, width_mm, height_mm, lang)
    # The first source map_content names is the register itself, which every report names already.
    return LocationMap(png, tuple(content.sources[1:]), scale, tuple(neighbours["code"]))


def _area(lon: float, lat: float, aspect: float) -> tuple[float, float, float, float]:
    """West, south, east, north of the ground around (lon, lat) that fills a map of ``aspect``."""
    half_lat = HALF_HEIGHT_KM / 111.2
    half_lon = half_lat * aspect / max(math.cos(math.radians(lat)), 0.1)
    return lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat


def _neighbours(engine: Engine, code: str, area, lang: str) -> gpd.GeoDataFrame:
    """The other live sites in ``area`` with their latest class, nearest first."""
    s, v = t.site, t.sites_view
    order = dict.fromkeys((lang, "ru", "kk", "en"))
    here = select(s.c.geom).where(s.c.code == code).scalar_subquery()
    query = (select(v.c.code, func.coalesce(*(s.c[f"name_{k}"] for k in order)).label("name"), v.c.priority_class,
                    v.c.geom)
             .select_from(v.join(s, s.c.id == v.c.id))
             .where(v.c.code != code, v.c.geom.op("&&")(func.ST_MakeEnvelope(*area, 4326)))
             .order_by(func.ST_Distance(v.c.geom, here), v.c.code).limit(NEIGHBOURS))
    with engine.connect() as conn:
        return gpd.read_postgis(query, conn, geom_col="geom", crs="EPSG:4326")


def _draw(content, site, width_mm: float, height_mm: float, lang: str) -> tuple[bytes, int]:
    page = _Inset(width_mm, height_mm)
    with RENDERING, matplotlib.rc_context(RC):  # settings are process-wide: one sheet at a time, as print maps
        figure = Figure(figsize=(width_mm / 25.4, height_mm / 25.4), facecolor="white")
        ax = figure.add_axes([0, 0, 1, 1])
        crs = lambert(tuple(content.focus.total_bounds))
        view = _view(content.focus, crs, (0, 0, width_mm, height_mm))
        _frame(ax, view)
        _layers(ax, content, crs, view, page)
        _sites(ax, content, crs, page)
        here = gpd.GeoSeries([site], crs="EPSG:4326").to_crs(crs).iloc[0]
        ax.scatter([here.x], [here.y], s=(13 * page.k) ** 2, facecolors="none", edgecolors="#111111",
                   linewidths=1.4 * page.k, zorder=8)  # the passport's own site, ringed
        _, scale = _scale_bar(ax, crs, view, page, lang)
        _north_arrow(figure, ax, crs, view, page, lang)
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue(), scale
