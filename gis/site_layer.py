"""The register's sites as one compact data layer drawn in the browser: clustered when many, filterable by class.

A folium CircleMarker per site writes a JavaScript statement and a popup per site: at 100,000 sites that is
hundreds of megabytes of page. Here the sites travel as one JSON array of short rows (repeated strings such as
region names are sent once and referred to by number), markers are made in the browser, popups are built only when
a marker is clicked, and from ``CLUSTER_FROM`` sites on Supercluster groups them so the national view draws a few
hundred clusters instead of every point. The class filter inside the map works in the browser alone.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

import orjson
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.map import FeatureGroup
from folium.template import Template

# Below this many sites each site is its own marker (as before): a district or a demo register stays exact.
CLUSTER_FROM = 2000
# Five decimals of a degree is about one metre: enough for a national map, and it keeps rows short.
DECIMALS = 5
CLASS_ORDER = ("1", "2", "3", "I", "N", None)  # most urgent first: a cluster takes the colour of its first class
# Popup rows in order; the last two (score and why) only where the sites carry them (the HTML export).
POPUP_FIELDS = ("Code", "Name", "Region", "Contaminants", "Stage", "Priority", "Location", "Score", "Why")


def pack(sites: Iterable[dict[str, Any]], words: Callable[[str, str], str] | None = None) -> dict[str, Any]:
    """Rows the browser draws: [lat, lon, code, name, class, region, contaminants, stage, precision], plus
    [score, why] for sites that have ``score_text`` or ``why`` (texts of the export's popups).

    Class is an index into ``CLASS_ORDER``; region, contaminants, stage and precision are indexes into ``strings``.
    ``words(kind, value)`` names a stage or a location precision in the reader's language (default: the value).
    """
    words = words or (lambda _kind, value: _label(value))
    strings: dict[str, int] = {}
    rows = []
    for site in sites:
        row = [
            round(float(site["lat"]), DECIMALS), round(float(site["lon"]), DECIMALS),
            str(site.get("code") or ""), str(site.get("name") or ""),
            CLASS_ORDER.index(site.get("priority_class")) if site.get("priority_class") in CLASS_ORDER else 5,
            _intern(strings, _word(words, "region", site.get("region"))), _intern(strings, site.get("contaminants")),
            _intern(strings, _word(words, "stage", site.get("workflow_stage"))),
            _intern(strings, _word(words, "precision", site.get("location_precision"))),
        ]
        if site.get("score_text") or site.get("why"):
            row += [str(site.get("score_text") or ""), str(site.get("why") or "")]
        rows.append(row)
    return {"rows": rows, "strings": list(strings)}


def _word(words: Callable[[str, str], str], kind: str, value: str | None) -> str | None:
    return words(kind, value) if value else value


def _intern(strings: dict[str, int], value: Any) -> int:
    text = "" if value is None else str(value)
    return strings.setdefault(text, len(strings))


def _label(value: str | None) -> str | None:
    return value.replace("_", " ") if value else value


# A JSON value never has "{" before "{", "%" or "#" outside a string, so these are always inside text.
TEMPLATE_OPENER = re.compile(r"\{(?=[{%#])")


def to_script_json(value: Any) -> str:
    """JSON safe inside a <script> element and inside a Jinja template.

    ``<``, ``>`` and ``&`` become \\u escapes, so no text can close the script; ``{`` before ``{``, ``%`` or
    ``#`` becomes ``\\u007b``, so a name like ``{{ 7*7 }}`` is never evaluated by Jinja (branca compiles
    rendered scripts as templates when a whole page is rendered).
    """
    text = orjson.dumps(value).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return TEMPLATE_OPENER.sub(lambda _: "\\u007b", text)


class RawScript(MacroElement):
    """A MacroElement whose rendered script goes into the page as it is.

    branca's MacroElement wraps each rendered script in ``Element(script)``, which compiles it as a new Jinja
    template: for a layer carrying 100,000 sites that is 0.6 s per render, and stored text would be read as
    template syntax. Here the script is rendered once per render and added as plain text.
    """

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        script = self._template.module.__dict__.get("script")
        if script is not None:
            figure.script.add_child(_Text(script(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class _Text(Element):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


class SiteLayer(JSCSSMixin, RawScript):
    """Every site of the register in one layer, with a class filter control; see the module docstring."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var data = {{ this.data_json }};
  var classes = {{ this.classes_json }};
  var rows = data.rows, strings = data.strings, fields = {{ this.fields_json }};
  var clustered = rows.length >= {{ this.cluster_from }};
  function cssSafe(text) { return String(text).replace(/[^A-Za-z0-9-]/g, "_"); }
  function cell(tr, tag, text) { var el = document.createElement(tag); el.textContent = text; tr.appendChild(el); }
  function popupContent(row) {
    var values = [row[2], row[3], strings[row[5]], strings[row[6]], strings[row[7]], classes[row[4]].label,
                  strings[row[8]], row[9], row[10]];
    var table = document.createElement("table");
    table.className = "site-popup";
    for (var i = 0; i < fields.length; i++) {
      if (i >= 7 && !values[i]) { continue; }  // score and why: only in exports that carry them
      var tr = document.createElement("tr");
      cell(tr, "th", fields[i]);
      cell(tr, "td", values[i] || "\u2014");
      table.appendChild(tr);
    }
    return table;
  }
  var markers = new Array(rows.length);  // made when first drawn: a national view draws clusters, not sites
  function siteMarker(i) {
    if (!markers[i]) {
      var row = rows[i];
      markers[i] = L.circleMarker([row[0], row[1]], {
        radius: 8, color: "#222222", weight: 1, fill: true, fillColor: classes[row[4]].colour, fillOpacity: 0.9,
        className: "site-marker site-" + cssSafe(row[2])});
      markers[i].siteRow = row;
    }
    return markers[i];
  }
  function clusterMarker(feature) {
    var count = feature.properties.point_count, best = feature.properties.best;
    var size = count < 100 ? 34 : count < 1000 ? 40 : 48;
    var div = document.createElement("div");
    div.style.cssText = "background:" + classes[best].colour + ";width:" + (size - 8) + "px;height:" + (size - 8) +
      "px;margin:4px;border-radius:" + size / 2 + "px;line-height:" + (size - 8) + "px;border:1px solid #222;" +
      "color:#111;font:bold 12px sans-serif;text-align:center;text-shadow:0 0 3px #fff,0 0 2px #fff";
    div.textContent = count.toLocaleString("en-US");
    var coordinates = feature.geometry.coordinates, latlng = L.latLng(coordinates[1], coordinates[0]);
    var marker = L.marker(latlng, {icon: L.divIcon({html: div, className: "site-cluster site-cluster-" + best,
                                                    iconSize: L.point(size, size)})});
    marker.on("click", function () {
      map.setView(latlng, Math.min(index.getClusterExpansionZoom(feature.properties.cluster_id), 18));
    });
    return marker;
  }
  var group = L.featureGroup().addTo(map);
  group.on("click", function (e) {
    var marker = e.propagatedFrom || e.layer;
    if (!marker || !marker.siteRow) { return; }
    L.popup({maxWidth: 360}).setLatLng(marker.getLatLng()).setContent(popupContent(marker.siteRow)).openOn(map);
  });
  group.on("mouseover", function (e) {
    var marker = e.propagatedFrom || e.layer;
    if (!marker || !marker.siteRow || marker.getTooltip()) { return; }
    var label = document.createElement("span");
    label.textContent = marker.siteRow[2] + " " + marker.siteRow[3];
    marker.bindTooltip(label).openTooltip();
  });
  // Supercluster indexes every point once (a k-d tree per zoom level) and then hands out only the clusters and
  // sites inside the view: the browser draws a few hundred markers whatever the size of the register.
  var shown = classes.map(function () { return true; }), chosen = [], index = null;
  function fill() {
    chosen = [];
    for (var i = 0; i < rows.length; i++) { if (shown[rows[i][4]]) { chosen.push(i); } }
    if (clustered) {
      index = new Supercluster({radius: 60, maxZoom: 13,
                                map: function (p) { return {best: p.best}; },
                                reduce: function (a, b) { if (b.best < a.best) { a.best = b.best; } }});
      index.load(chosen.map(function (i) {
        return {type: "Feature", properties: {i: i, best: rows[i][4]},
                geometry: {type: "Point", coordinates: [rows[i][1], rows[i][0]]}};
      }));
    }
    map.getContainer().setAttribute("data-sites-shown", chosen.length);
    draw();
  }
  function draw() {
    group.clearLayers();
    if (!clustered) { chosen.forEach(function (i) { group.addLayer(siteMarker(i)); }); return; }
    var b = map.getBounds();
    var view = [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -85), Math.min(b.getEast(), 180),
                Math.min(b.getNorth(), 85)];
    index.getClusters(view, Math.round(map.getZoom())).forEach(function (f) {
      group.addLayer(f.properties.cluster ? clusterMarker(f) : siteMarker(f.properties.i));
    });
  }
  if (clustered) { map.on("moveend", draw); }
  fill();
  var counts = classes.map(function () { return 0; });
  rows.forEach(function (row) { counts[row[4]] += 1; });
  var control = L.control({position: "bottomleft"});
  control.onAdd = function () {
    var box = L.DomUtil.create("div", "leaflet-control-layers leaflet-control site-class-filter");
    box.style.padding = "6px 8px";
    var title = document.createElement("strong");
    title.textContent = {{ this.filter_title_json }};
    box.appendChild(title);
    classes.forEach(function (cls, index) {
      if (!counts[index]) { return; }
      var label = document.createElement("label");
      label.style.display = "block";
      var tick = document.createElement("input");
      tick.type = "checkbox"; tick.checked = true; tick.value = index;
      tick.addEventListener("change", function () { shown[index] = tick.checked; fill(); });
      var swatch = document.createElement("span");
      swatch.style.cssText = "display:inline-block;width:10px;height:10px;border-radius:5px;margin:0 4px;" +
                             "border:1px solid #222;background:" + cls.colour;
      label.appendChild(tick); label.appendChild(swatch);
      label.appendChild(document.createTextNode(cls.label + " (" + counts[index].toLocaleString("en-US") + ")"));
      box.appendChild(label);
    });
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  control.addTo(map);
})();
{% endmacro %}
""")

    def __init__(self, sites: Iterable[dict[str, Any]], colours: dict, labels: dict, *, vendor_url: str,
                 cluster_from: int = CLUSTER_FROM, filter_title: str = "Priority class",
                 fields: Iterable[str] = POPUP_FIELDS, words: Callable[[str, str], str] | None = None) -> None:
        super().__init__()
        self._name = "SiteLayer"
        packed = pack(sites, words)
        self.count = len(packed["rows"])
        self.cluster_from = cluster_from
        self.data_json = to_script_json(packed)
        self.classes_json = to_script_json([{"colour": colours[c], "label": labels[c]} for c in CLASS_ORDER])
        self.fields_json = to_script_json(list(fields))
        self.filter_title_json = to_script_json(filter_title)
        self.default_js = [("supercluster_js", f"{vendor_url}/supercluster/supercluster.min.js")]


class ReceptorLayer(FeatureGroup, RawScript):
    """A switchable layer of receptor points (settlements, schools...) drawn in the browser from one JSON array.

    A folium CircleMarker with a tooltip per point compiles templates per point: 2,000 settlements took 4 s of
    the map page's 5 s. Rows here are [lat, lon, label]; labels become tooltips as text, never as HTML.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.featureGroup({{ this.options|tojavascript }});
(function (group) {
  {{ this.data_json }}.forEach(function (row) {
    var marker = L.circleMarker([row[0], row[1]], {radius: 3, color: "#1f4e79", weight: 1, fill: true,
                                                   fillOpacity: 0.6, className: "receptor-marker"});
    var label = document.createElement("span");
    label.textContent = row[2];
    group.addLayer(marker.bindTooltip(label));
  });
})({{ this.get_name() }});
{% endmacro %}
""")

    def __init__(self, name: str, points: Iterable[dict[str, Any]], *, show: bool = False) -> None:
        super().__init__(name=name, show=show)
        rows = [[round(float(p["lat"]), DECIMALS), round(float(p["lon"]), DECIMALS), _receptor_label(p)]
                for p in points]
        self.count = len(rows)
        self.data_json = to_script_json(rows)


def _receptor_label(point: dict[str, Any]) -> str:
    label = str(point.get("name") or "")
    if point.get("population") is not None:
        label += f" ({int(point['population']):,} people)"
    return label
