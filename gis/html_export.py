"""One self-contained interactive HTML map for a workshop: Leaflet, data and styles inside, no network needed."""

from __future__ import annotations

import base64
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable

import folium
from folium.template import Template
from sqlalchemy import Engine, Text, any_, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY

from gis import maps
from gis import tables as t
from gis.assets import STATIC_DIR
from gis.printmap import map_content
from gis.public import rows_for
from gis.site_layer import CLUSTER_FROM, RawScript, to_script_json
from sites.errors import InvalidInput
from sites.i18n import localized, parse_language, translator
from sites.permissions import Actor
from sites.regions import BY_KATO
from sites.scoring.explain import brief

# Leaflet is referred to by this placeholder while the map is built, then every reference is replaced by the file.
PLACEHOLDER = "vendor-inline:"
ASSET = re.compile(r'<script src="vendor-inline:/([^"]+)"></script>|<link rel="stylesheet" href="vendor-inline:/([^"]+)"/>')
CSS_IMAGE = re.compile(r"url\((images/[^)]+\.png)\)")
LAYER_STYLES = {
    "regions": {"color": "#555555", "weight": 1.5, "fill": False},
    "districts": {"color": "#999999", "weight": 0.7, "fill": False, "dashArray": "3 3"},
    "lakes": {"color": "#4a90c2", "weight": 0.5, "fillColor": "#a6cee3", "fillOpacity": 0.7},
    "rivers": {"color": "#4a90c2", "weight": 1.2},
}


@dataclass(frozen=True)
class ExportedMap:
    """What the file holds: its path and size, the sites drawn, the layers and their sources."""

    path: Path
    bytes: int
    codes: tuple[str, ...]
    layers: tuple[str, ...]
    sources: tuple[str, ...]
    method: str


def export_html(engine: Engine, path: str | Path, *, region: str | None = None, codes: str | Iterable[str] = (),
                title: str | None = None, lang: str = "en", on: date | None = None,
                cluster_from: int = CLUSTER_FROM, actor: Actor | None = None) -> ExportedMap:
    """Write the map of the country, a region or chosen sites (as print maps choose them) to one HTML file.

    Sites are coloured by class with a legend and a class filter; each popup carries the score explanation in
    ``lang``; boundaries, water and towns are switchable when loaded; every layer shown is credited. The file is
    written beside ``path`` and renamed, so a failure leaves no half-written file. A map for the public
    (``actor`` is ``sites.permissions.PUBLIC``) places confidential sites on the public grid only.
    """
    lang = parse_language(lang)
    path = _output(path)
    content = map_content(engine, region=region, codes=codes, title=title, lang=lang, on=on, actor=actor)
    codes = tuple(content.sites["code"])
    sites = popup_sites(engine, codes, lang, actor=actor)
    _ = translator(lang)
    towns = content.layers.get("towns")
    receptors = {_("export.towns"): _town_points(towns)} if towns is not None and len(towns) else {}
    overlays = [_outline_layer(name, frame, _(f"export.{name}")) for name, frame in content.layers.items()
                if name in LAYER_STYLES and len(frame)]
    fmap = maps.site_map(sites, receptors, vendor_url=PLACEHOLDER, lang=lang, overlays=overlays,
                         cluster_from=cluster_from)
    _fit(fmap, content.focus.total_bounds)
    Header(content.title, content.subtitle, _("export.made", date=content.on.isoformat(), method=content.method),
           _("export.offline"), _("export.sources"), content.sources).add_to(fmap)
    html = inline_assets(fmap.get_root().render())
    _write(path, html)
    return ExportedMap(path, len(html.encode()), codes, tuple(n for n, f in content.layers.items() if len(f)),
                       tuple(content.sources), content.method)


def popup_sites(engine: Engine, codes: Iterable[str], lang: str, *,
                actor: Actor | None = None) -> list[dict[str, Any]]:
    """The chosen sites with everything their popups show, names in ``lang`` where the register has them (for the
    public ``actor``, confidential sites generalised)."""
    s, sc, c, sco = t.site, t.site_contaminant, t.contaminant, t.score
    # One array parameter, not one per code: a national export of 100,000 sites would pass PostgreSQL's limit of
    # 65,535 parameters with IN (...).
    chosen = bindparam("codes", list(codes), type_=ARRAY(Text))
    order = dict.fromkeys((lang, "ru", "kk", "en"))
    names = (select(func.string_agg(func.distinct(func.coalesce(*(c.c[f"name_{k}"] for k in order))), ", "))
             .select_from(sc.join(c)).where(sc.c.site_id == s.c.id).scalar_subquery())
    latest = (select(sco.c.total, sco.c.priority_class, sco.c.confidence, sco.c.explanation)
              .where(sco.c.site_id == s.c.id).order_by(sco.c.computed_at.desc(), sco.c.id.desc()).limit(1)
              .lateral("latest"))
    query = (select(s.c.code, s.c.name_en, s.c.name_ru, s.c.name_kk, s.c.region_kato, s.c.stage, s.c.location_precision,
                    func.ST_Y(s.c.geom).label("lat"), func.ST_X(s.c.geom).label("lon"), names.label("contaminants"),
                    latest.c.total, latest.c.priority_class, latest.c.confidence, latest.c.explanation,
                    s.c.confidential)
             .select_from(s.outerjoin(latest, true())).where(s.c.code == any_(chosen)).order_by(s.c.code))
    with engine.connect() as conn:
        return [_popup_site(row, lang) for row in rows_for(actor, conn.execute(query).mappings())]


def _popup_site(row: dict[str, Any], lang: str) -> dict[str, Any]:
    _ = translator(lang)
    region = BY_KATO.get(row["region_kato"] or "")
    scored = row["total"] is not None
    lines = brief(row, lang) if scored else []
    return {
        "code": row["code"], "name": localized(row, lang), "lat": row["lat"], "lon": row["lon"],
        "region": localized({f"name_{k}": getattr(region, f"name_{k}") for k in ("en", "ru", "kk")}, lang)
        if region else row["region_kato"],
        "contaminants": row["contaminants"], "priority_class": row["priority_class"],
        "workflow_stage": _("stage." + row["stage"]) if row["stage"] else None,
        "location_precision": _("precision." + row["location_precision"]) if row["location_precision"] else None,
        "score_text": lines[0] if lines else None, "why": " · ".join(lines[1:]) or None,
    }


def _town_points(frame) -> list[dict[str, Any]]:
    return [{"name": name, "lat": point.y, "lon": point.x} for name, point in zip(frame["name"], frame.geometry)]


def _outline_layer(name: str, frame, label: str) -> folium.FeatureGroup:
    """Boundaries or water as a switchable layer; geometry only, so no stored text reaches the page here."""
    group = folium.FeatureGroup(name=maps.escape(label), show=name != "districts")
    style = LAYER_STYLES[name]
    folium.GeoJson(frame.geometry.to_json(), style_function=lambda _feature: style, interactive=False,
                   name=maps.escape(label)).add_to(group)
    return group


def _fit(fmap: folium.Map, bounds) -> None:
    west, south, east, north = (float(v) for v in bounds)
    if all(map(lambda v: v == v, (west, south, east, north))):  # NaN when nothing is drawn
        fmap.fit_bounds([[south, west], [north, east]], padding=(20, 20))


class Header(RawScript):
    """Title, scope, date and method at the top; sources of every layer at the bottom; all as text nodes."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }}, words = {{ this.words_json }};
  function box(position, build) {
    var control = L.control({position: position});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "leaflet-control leaflet-control-layers export-" + position);
      div.style.cssText = "padding:6px 10px;max-width:520px;background:rgba(255,255,255,0.92)";
      build(div);
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    control.addTo(map);
  }
  function line(parent, tag, text) { var el = document.createElement(tag); el.textContent = text; parent.appendChild(el); }
  box("topright", function (div) {
    line(div, "strong", words.title);
    line(div, "div", words.subtitle);
    line(div, "div", words.made);
    line(div, "small", words.offline);
  });
  box("bottomright", function (div) {
    div.className += " export-sources";
    line(div, "strong", words.sources_title);
    words.sources.forEach(function (source) { line(div, "div", source); });
  });
})();
{% endmacro %}
""")

    def __init__(self, title: str, subtitle: str, made: str, offline: str, sources_title: str,
                 sources: Iterable[str]) -> None:
        super().__init__()
        self._name = "ExportHeader"
        self.words_json = to_script_json({"title": title, "subtitle": subtitle, "made": made, "offline": offline,
                                          "sources_title": sources_title, "sources": list(sources)})


def inline_assets(html: str, static_dir: Path = STATIC_DIR) -> str:
    """Replace every reference to a vendored script or style by its content, images in styles as data URIs."""
    def replace(match: re.Match) -> str:
        script, style = match.groups()
        file = static_dir / "vendor" / (script or style)
        if not file.exists():
            raise InvalidInput("asset", str(file), "Leaflet's files under static/vendor (scripts/run fetches them)")
        body = file.read_text(encoding="utf-8")
        if script:
            return "<script>" + body.replace("</script", "<\\/script") + "</script>"
        body = CSS_IMAGE.sub(lambda m: f"url({_data_uri(file.parent / m.group(1))})", body)
        return "<style>" + body.replace("</style", "<\\/style") + "</style>"
    return ASSET.sub(replace, html)


def _data_uri(file: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(file.read_bytes()).decode()


def _output(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir() or not path.parent.is_dir():
        raise InvalidInput("output", str(path), "a file name in an existing folder")
    return path


def _write(path: Path, html: str) -> None:
    handle, temporary = tempfile.mkstemp(suffix=".html", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(html)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
