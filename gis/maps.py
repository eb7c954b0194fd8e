"""Maps as data: pure functions that build a folium map from plain records, served with local Leaflet."""

from __future__ import annotations

import html
from typing import Any, Iterable

import folium
from folium.plugins import Draw
import shapely
from shapely.geometry import MultiPolygon, shape

from gis.assets import VENDOR_URL
from gis.site_layer import CLUSTER_FROM, ReceptorLayer, SiteLayer
from sites.i18n import catalogue, translator
from sites.regions import REGIONS

CLASS_COLOURS = {"1": "#b2182b", "2": "#ef8a62", "3": "#fddbc7", "N": "#67a9cf", "I": "#8c6bb1", None: "#808080"}
CLASS_KEYS = {"1": "class.1", "2": "class.2", "3": "class.3", "N": "class.N", "I": "class.I", None: "class.none"}
POPUP_KEYS = ("popup.code", "popup.name", "popup.region", "popup.contaminants", "popup.stage", "popup.priority",
              "popup.location", "popup.score", "popup.why")
REGIONS_BY_NAME = {region.name_en: region for region in REGIONS}
KAZAKHSTAN_CENTRE = (48.0, 67.0)
OSM_ATTRIBUTION = "&copy; OpenStreetMap contributors"


def escape(value: Any) -> str:
    """Escape text for HTML that folium places inside a JavaScript template literal.

    ``html.escape`` covers tags and quotes; backslash, backtick and ``$`` are escaped as entities too,
    so a name like ``${alert(1)}`` cannot break out of the template string.
    """
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def site_map(sites: Iterable[dict[str, Any]], receptors: dict[str, list[dict[str, Any]]] | None = None,
             *, vendor_url: str = VENDOR_URL, osm_basemap: bool = False,
             cluster_from: int = CLUSTER_FROM, lang: str = "en", overlays: Iterable[Any] = ()) -> folium.Map:
    """Build the register map: sites coloured by priority class, receptor layers switchable.

    ``vendor_url`` is where Leaflet, Supercluster and jQuery are served from, so the map needs no internet; from
    ``cluster_from`` sites on, markers are grouped into clusters (gis/site_layer.py); ``lang`` is the language of
    the class labels and popups; ``overlays`` are further switchable folium layers (boundaries, water).
    """
    fmap = _base_map(KAZAKHSTAN_CENTRE, 5, vendor_url, osm_basemap)
    _ = translator(lang)
    SiteLayer(sites, CLASS_COLOURS, class_labels(lang), vendor_url=vendor_url, cluster_from=cluster_from,
              filter_title=_("map.filter"), fields=[_(key) for key in POPUP_KEYS],
              words=lambda kind, value: _word(_, lang, kind, value)).add_to(fmap)
    overlays = list(overlays)
    for layer in overlays:
        layer.add_to(fmap)
    for name, points in (receptors or {}).items():
        ReceptorLayer(escape(name), points).add_to(fmap)
    if receptors or overlays:
        folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def _base_map(centre: tuple[float, float], zoom: int, vendor_url: str, osm_basemap: bool) -> folium.Map:
    fmap = folium.Map(location=centre, zoom_start=zoom, tiles=None, max_zoom=18, prefer_canvas=False,
                      control_scale=True)
    fmap.default_js = [("leaflet", f"{vendor_url}/leaflet/leaflet.js"), ("jquery", f"{vendor_url}/jquery/jquery.min.js")]
    fmap.default_css = [("leaflet_css", f"{vendor_url}/leaflet/leaflet.css")]
    if osm_basemap:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap (online)", attr=OSM_ATTRIBUTION).add_to(fmap)
    return fmap


def placement_map(point: tuple[float, float] | None, footprint: dict | str | None = None,
                  nearby: Iterable[dict[str, Any]] = (), *, vendor_url: str = VENDOR_URL,
                  osm_basemap: bool = False) -> folium.Map:
    """The add/edit map: click to place the site, draw its footprint; the chosen point and nearby sites shown.

    ``footprint`` is GeoJSON or WKT in EPSG:4326 (the register stores WKT); ``nearby`` are sites (code, name, lat, lon) a duplicate check found.
    """
    fmap = _base_map(point or KAZAKHSTAN_CENTRE, 13 if point else 5, vendor_url, osm_basemap)
    draw = Draw(draw_options={"polyline": False, "circle": False, "circlemarker": False, "marker": False,
                              "rectangle": True, "polygon": {"allowIntersection": False}},
                edit_options={"edit": False, "remove": False})
    draw.default_js = [("leaflet_draw_js", f"{vendor_url}/leaflet-draw/leaflet.draw.js")]
    draw.default_css = [("leaflet_draw_css", f"{vendor_url}/leaflet-draw/leaflet.draw.css")]
    draw.add_to(fmap)
    if isinstance(footprint, str):
        footprint = shapely.from_wkt(footprint).__geo_interface__
    if footprint:
        folium.GeoJson(footprint, name="Footprint", style_function=lambda _: {"color": "#b2182b", "weight": 2}).add_to(fmap)
    for site in nearby:
        folium.CircleMarker(location=(site["lat"], site["lon"]), radius=7, color="#222222", weight=1, fill=True,
                            fill_color=CLASS_COLOURS[None], fill_opacity=0.8, class_name="nearby-site",
                            tooltip=escape(site.get("code")) + " " + escape(site.get("name"))).add_to(fmap)
    if point:
        folium.Marker(location=point, tooltip="The site's point", class_name="placed-point").add_to(fmap)
    return fmap


def read_placement(returned: dict[str, Any] | None) -> tuple[tuple[float, float] | None, dict | None]:
    """What the user did on the placement map: (clicked point, drawn footprint as MultiPolygon GeoJSON).

    ``returned`` is the dict streamlit-folium gives back; a footprint that is not a valid polygon is ignored here
    and refused with its reason when the site is saved.
    """
    returned = returned or {}
    click = returned.get("last_clicked")
    point = (round(float(click["lat"]), 6), round(float(click["lng"]), 6)) if click else None
    if point and not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180):
        point = None  # a click on a repeated copy of the world: not a place
    drawing = returned.get("last_active_drawing") or {}
    geometry = drawing.get("geometry") if isinstance(drawing, dict) else None
    footprint = None
    if geometry and geometry.get("type") in ("Polygon", "MultiPolygon"):
        polygon = shape(geometry)
        footprint = (MultiPolygon([polygon]) if polygon.geom_type == "Polygon" else polygon).__geo_interface__
    return point, footprint


def inside_point(footprint: dict) -> tuple[float, float]:
    """A point inside a footprint (GeoJSON), for a site placed by drawing its outline only."""
    point = shape(footprint).representative_point()
    return round(point.y, 6), round(point.x, 6)


def _word(_, lang: str, kind: str, value: str) -> str:
    """A stage, location precision or region (by its English name, as queries give it) in the map's language."""
    if kind == "region":
        region = REGIONS_BY_NAME.get(value)
        return getattr(region, f"name_{lang}") if region else value
    return _(f"{kind}.{value}") if f"{kind}.{value}" in catalogue() else value


def class_labels(lang: str = "en") -> dict[str | None, str]:
    """Priority class -> its label in ``lang``."""
    _ = translator(lang)
    return {cls: _(key) for cls, key in CLASS_KEYS.items()}


def legend_items(lang: str = "en") -> list[tuple[str, str]]:
    """(colour, label) pairs for the priority classes, in order."""
    labels = class_labels(lang)
    return [(CLASS_COLOURS[k], labels[k]) for k in ("1", "2", "3", "N", "I", None)]
