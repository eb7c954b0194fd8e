"""Draw a print map with matplotlib from plain content: page, layers, legend, scale bar, north arrow and credits."""

from __future__ import annotations

import math
import textwrap
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import matplotlib
import pyproj
import shapely
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from shapely.ops import polylabel

from gis.maps import CLASS_COLOURS
from gis.printmap_words import word
from sites.report_format import printable

PAPERS_MM = {"a4": (210.0, 297.0), "a3": (297.0, 420.0)}  # portrait width x height, ISO 216
DPI = 300
CLASS_ORDER = ("1", "2", "3", "N", "I", None)
MIN_SPAN_M = 25_000  # a sheet around one site still shows its surroundings
# TrueType fonts (42) keep PDF text extractable; matplotlib's default Type 3 draws non-Latin glyphs as pictures.
# parse_math off: a name such as "$(x)" or "a$b$c" from the database is printed as typed, never parsed as TeX.
RC = {"pdf.fonttype": 42, "font.family": "DejaVu Sans", "text.parse_math": False, "text.usetex": False,
      "axes.unicode_minus": False}
STYLE = {"land": "#f4f2ec", "around": "#fbfbf9", "border": "#6b6b6b", "focus": "#222222", "district": "#a8a8a8",
         "water": "#4a90c2", "lake": "#c6dbef", "town": "#333333", "text": "#222222", "muted": "#555555"}


@dataclass
class MapContent:
    """What one print map shows, in EPSG:4326, with its words already in the map's language."""

    title: str
    subtitle: str
    lang: str
    focus: gpd.GeoSeries  # what the sheet must frame; the projection is fitted to it
    sites: gpd.GeoDataFrame  # code, name, priority_class
    label_sites: bool
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)  # regions, districts, lakes, rivers, towns
    focus_kato: str | None = None
    sources: list[str] = field(default_factory=list)
    method: str = ""
    on: date = field(default_factory=date.today)


@dataclass(frozen=True)
class Drawn:
    """Facts of the drawing a caller may report: projection and the scale at the map's centre."""

    projection: str
    scale: int
    bar_km: float


RENDERING = threading.Lock()


def render(content: MapContent, paper: str, orientation: str, fmt: str, path: Path) -> Drawn:
    """Draw ``content`` on one page and save it to ``path`` as a 300 dpi PNG or a vector PDF."""
    # rc_context changes matplotlib's settings for the whole process: the app renders for several sessions at
    # once, so one sheet at a time.
    with RENDERING, matplotlib.rc_context(RC):
        figure, drawn = draw(content, paper, orientation, fmt)
        metadata = _metadata(content, fmt)
        figure.savefig(path, format=fmt, dpi=DPI, facecolor="white", metadata=metadata)
    return drawn


def draw(content: MapContent, paper: str, orientation: str, fmt: str = "pdf") -> tuple[Figure, Drawn]:
    """The page as a matplotlib Figure (no pyplot, no global state); call inside ``matplotlib.rc_context(RC)``."""
    page = Page.of(paper, orientation)
    figure = Figure(figsize=page.inches(fmt), facecolor="white")
    footer = _footer_lines(content, page)
    box = page.map_box(len(footer))
    ax = figure.add_axes(page.rect(*box))
    crs = lambert(tuple(content.focus.total_bounds))
    view = _view(content.focus, crs, box)
    _frame(ax, view)
    _layers(ax, content, crs, view, page)
    counts = _sites(ax, content, crs, page)
    _legend(ax, content, counts, page)
    bar_km, scale = _scale_bar(ax, crs, view, page, content.lang)
    _north_arrow(figure, ax, crs, view, page, content.lang)
    _header(figure, content, page)
    _footer(figure, footer, page)
    return figure, Drawn(crs.srs, scale, bar_km)


@dataclass(frozen=True)
class Page:
    """A sheet in millimetres; sizes of type and lines grow with the sheet so A3 reads like an enlarged A4."""

    width: float
    height: float

    @classmethod
    def of(cls, paper: str, orientation: str) -> Page:
        short, long = PAPERS_MM[paper]
        return cls(long, short) if orientation == "landscape" else cls(short, long)

    @property
    def k(self) -> float:
        return min(self.width, self.height) / 210.0

    @property
    def margin(self) -> float:
        return 10 * self.k

    def inches(self, fmt: str) -> tuple[float, float]:
        if fmt == "png":
            # Whole pixels as ISO paper at 300 dpi is usually given (A4: 2480 x 3508); Agg truncates the size, so
            # half a pixel more keeps float error from losing the last row.
            return tuple((round(mm / 25.4 * DPI) + 0.5) / DPI for mm in (self.width, self.height))
        return self.width / 25.4, self.height / 25.4

    def rect(self, x: float, y: float, w: float, h: float) -> list[float]:
        return [x / self.width, y / self.height, w / self.width, h / self.height]

    def line_mm(self, points: float) -> float:
        return points * 25.4 / 72 * 1.35

    def map_box(self, footer_lines: int) -> tuple[float, float, float, float]:
        bottom = self.margin + footer_lines * self.line_mm(6.5 * self.k) + 2 * self.k
        top = self.height - self.margin - 17 * self.k
        return self.margin, bottom, self.width - 2 * self.margin, top - bottom


def map_aspect(paper: str, orientation: str, footer_lines: int = 3) -> float:
    """Width / height of the map on the sheet (the footer's height varies a little with its text)."""
    box = Page.of(paper, orientation).map_box(footer_lines)
    return box[2] / box[3]


def lambert(bounds: tuple[float, float, float, float]) -> pyproj.CRS:
    """A Lambert conformal conic CRS fitted to ``bounds`` (west, south, east, north: what the sheet frames).

    Conformal, so the scale is the same in every direction at a point and a scale bar can be read along any
    line; the standard parallels at one sixth of the latitude range from each edge keep the scale error within
    about half a percent across all of Kazakhstan (40.5-55.5 N) and far less for a region. The central meridian
    through the view's centre makes grid north true north there. Web Mercator would stretch distances by 50-80 %
    at these latitudes; one UTM zone spans only 6 of the country's 41 degrees of longitude.
    """
    west, south, east, north = bounds
    span = north - south
    return pyproj.CRS.from_dict({"proj": "lcc", "lat_1": round(south + span / 6, 4),
                                 "lat_2": round(north - span / 6, 4), "lat_0": round((south + north) / 2, 4),
                                 "lon_0": round((west + east) / 2, 4), "datum": "WGS84", "units": "m", "no_defs": True})


def _view(focus: gpd.GeoSeries, crs: pyproj.CRS, box: tuple[float, float, float, float]) -> tuple[float, ...]:
    """Projected x0, x1, y0, y1 framing ``focus`` with a margin, in the map box's proportions (equal x/y scale)."""
    x0, y0, x1, y1 = focus.to_crs(crs).total_bounds
    grow = max(0.0, MIN_SPAN_M - (x1 - x0)) / 2, max(0.0, MIN_SPAN_M - (y1 - y0)) / 2
    # Sites alone get more room around them: the legend and scale bar sit in the corners.
    pad = (0.15 if (focus.geom_type == "Point").all() else 0.04) * max(x1 - x0, y1 - y0, MIN_SPAN_M)
    x0, x1, y0, y1 = x0 - grow[0] - pad, x1 + grow[0] + pad, y0 - grow[1] - pad, y1 + grow[1] + pad
    aspect = box[2] / box[3]
    if (x1 - x0) / (y1 - y0) < aspect:
        widen = ((y1 - y0) * aspect - (x1 - x0)) / 2
        return x0 - widen, x1 + widen, y0, y1
    widen = ((x1 - x0) / aspect - (y1 - y0)) / 2
    return x0, x1, y0 - widen, y1 + widen


def _frame(ax, view) -> None:
    ax.set_xlim(view[0], view[1])
    ax.set_ylim(view[2], view[3])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_facecolor("white")
    for spine in ax.spines.values():
        spine.set_linewidth(0.6)


def _layers(ax, content: MapContent, crs, view, page: Page) -> None:
    """Boundaries, water and towns under the sites, each projected to the map's CRS."""
    k, layers = page.k, {name: frame.to_crs(crs) for name, frame in content.layers.items() if len(frame)}
    if "regions" in layers:
        regions = layers["regions"]
        focus = regions[regions["kato"] == content.focus_kato]
        land = STYLE["around"] if len(focus) else STYLE["land"]  # the chosen region stands out from its neighbours
        regions.plot(ax=ax, facecolor=land, edgecolor=STYLE["border"], linewidth=0.6 * k, zorder=1)
        if len(focus):
            focus.plot(ax=ax, facecolor=STYLE["land"], edgecolor="none", zorder=1.2)
            focus.boundary.plot(ax=ax, color=STYLE["focus"], linewidth=1.3 * k, zorder=3)
    if "districts" in layers:
        layers["districts"].boundary.plot(ax=ax, color=STYLE["district"], linewidth=0.3 * k, zorder=1.5)
    if "lakes" in layers:
        layers["lakes"].plot(ax=ax, facecolor=STYLE["lake"], edgecolor=STYLE["water"], linewidth=0.3 * k, zorder=2)
    if "rivers" in layers:
        layers["rivers"].plot(ax=ax, color=STYLE["water"], linewidth=0.6 * k, zorder=2)
    if "regions" in layers:
        _region_labels(ax, layers["regions"], view, page)
    if "towns" in layers:
        _towns(ax, layers["towns"], page)
    _frame(ax, view)  # GeoPandas' plot resets limits, aspect and axis labels; the page fixes them
    ax.set_aspect("auto")


def _region_labels(ax, regions: gpd.GeoDataFrame, view, page: Page) -> None:
    """Each region's name at the visual centre of its part in view; regions too small at this scale to hold a
    name are left unnamed."""
    width, height = view[1] - view[0], view[3] - view[2]
    inside = shapely.box(view[0] + 0.06 * width, view[2] + 0.03 * height, view[1] - 0.06 * width,
                         view[3] - 0.03 * height)  # a name centred near the frame would run over it
    for name, geom in zip(regions["label"], regions.geometry):
        shown = geom.intersection(inside)
        if not name or shown.area < 0.004 * inside.area:
            continue
        parts = getattr(shown, "geoms", [shown])
        largest = max((p for p in parts if p.geom_type == "Polygon"), key=lambda p: p.area)
        point = polylabel(largest, tolerance=(view[1] - view[0]) / 1000)
        ax.text(point.x, point.y, printable(name, 40), fontsize=6.5 * page.k, color=STYLE["muted"], ha="center",
                va="center", zorder=3.5, clip_on=True)


def _towns(ax, towns: gpd.GeoDataFrame, page: Page) -> None:
    k = page.k
    ax.scatter(towns.geometry.x, towns.geometry.y, s=(2.6 * k) ** 2, marker="s", color=STYLE["town"], zorder=4)
    for name, geom in zip(towns["name"], towns.geometry):
        ax.annotate(printable(name, 30), (geom.x, geom.y), xytext=(2.5 * k, 1.5 * k), textcoords="offset points",
                    fontsize=5.5 * k, color=STYLE["town"], zorder=4, annotation_clip=True, clip_on=True)


def _sites(ax, content: MapContent, crs, page: Page) -> dict[str | None, int]:
    """Sites by class, the highest class drawn last so it stays on top; returns the count drawn per class."""
    sites, counts, k = content.sites.to_crs(crs), {}, page.k
    classes = sites["priority_class"].where(sites["priority_class"].notna(), None)
    for cls in reversed(CLASS_ORDER):
        chosen = sites[classes.map(lambda c: c == cls)]
        if len(chosen):
            counts[cls] = len(chosen)
            ax.scatter(chosen.geometry.x, chosen.geometry.y, s=(6.0 * k) ** 2, color=CLASS_COLOURS[cls],
                       edgecolors="#222222", linewidths=0.5 * k, zorder=6 + CLASS_ORDER[::-1].index(cls) / 10)
    if content.label_sites:
        _site_labels(ax, sites, page)
    return {cls: counts[cls] for cls in CLASS_ORDER if cls in counts}


def _site_labels(ax, sites: gpd.GeoDataFrame, page: Page) -> None:
    """Code and name beside each site, on the side towards the map's middle so labels stay on the sheet."""
    k, (x0, x1) = page.k, ax.get_xlim()
    for code, name, geom in zip(sites["code"], sites["name"], sites.geometry):
        right = geom.x < x0 + 0.6 * (x1 - x0)
        ax.annotate(f"{code} {printable(name, 40)}", (geom.x, geom.y), xytext=(4 * k if right else -4 * k, -1.5 * k),
                    textcoords="offset points", ha="left" if right else "right", fontsize=5.5 * k,
                    color=STYLE["text"], zorder=7, annotation_clip=True, clip_on=True,
                    bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 0.6})


def _legend(ax, content: MapContent, counts: dict[str | None, int], page: Page) -> None:
    """Classes drawn with their counts, then the other layers drawn."""
    k, lang = page.k, content.lang
    handles = [Line2D([], [], marker="o", linestyle="none", markersize=6 * k, markerfacecolor=CLASS_COLOURS[cls],
                      markeredgecolor="#222222", label=f"{word(f'class {cls}', lang)}: {n}")
               for cls, n in counts.items()]
    layers = {name for name, frame in content.layers.items() if len(frame)}
    shown = {"regions": Patch(facecolor=STYLE["land"], edgecolor=STYLE["border"]),
             "districts": Line2D([], [], color=STYLE["district"], linewidth=0.6 * k),
             "rivers": Line2D([], [], color=STYLE["water"], linewidth=1.0 * k),
             "lakes": Patch(facecolor=STYLE["lake"], edgecolor=STYLE["water"]),
             "towns": Line2D([], [], marker="s", linestyle="none", markersize=2.6 * k, color=STYLE["town"])}
    for name, handle in shown.items():
        if name in layers:
            handle.set_label(word(name, lang))
            handles.append(handle)
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=7 * k, title=word("legend", lang),
                  title_fontsize=7.5 * k, framealpha=0.92, edgecolor="#888888").set_zorder(10)


def _scale_bar(ax, crs, view, page: Page, lang: str) -> tuple[float, int]:
    """A bar of a round number of kilometres, true at the map's centre; returns it and the scale denominator."""
    x0, x1, y0, y1 = view
    factor = _scale_factor(crs, view)
    box = ax.get_position()
    map_mm = box.width * page.width
    scale = _round_scale((x1 - x0) / factor / (map_mm / 1000))
    bar_km = nice_km((x1 - x0) / factor / 1000 * 0.2)
    length = bar_km * 1000 * factor
    per_mm = (x1 - x0) / map_mm
    right, base, height = x1 - 8 * page.k * per_mm, y0 + 7 * page.k * per_mm, 1.4 * page.k * per_mm
    left = right - length
    ax.add_patch(Rectangle((left - 3 * page.k * per_mm, base - 5 * page.k * per_mm),
                           length + 9 * page.k * per_mm, height + 9.5 * page.k * per_mm,
                           facecolor="white", alpha=0.85, edgecolor="none", zorder=9))
    for i in range(4):
        ax.add_patch(Rectangle((left + i * length / 4, base), length / 4, height, zorder=10,
                               facecolor="#222222" if i % 2 == 0 else "white", edgecolor="#222222",
                               linewidth=0.5 * page.k))
    for at, value in ((0, 0), (0.5, bar_km / 2), (1, bar_km)):
        label = _km(value) + (f" {word('km', lang)}" if at == 1 else "")
        ax.text(left + at * length, base + height + 1 * page.k * per_mm, label, fontsize=6.5 * page.k,
                ha="center", va="bottom", zorder=10)
    ax.text(left + length / 2, base - 1 * page.k * per_mm, f"{word('scale', lang)} 1 : {scale:,}".replace(",", " "),
            fontsize=6 * page.k, ha="center", va="top", zorder=10)
    return bar_km, scale


def _scale_factor(crs, view) -> float:
    """The projection's scale factor at the map's centre (conformal: one number for every direction)."""
    lon, lat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(
        (view[0] + view[1]) / 2, (view[2] + view[3]) / 2)
    return pyproj.Proj(crs).get_factors(lon, lat).parallel_scale


def nice_km(most: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``most`` kilometres."""
    power = 10 ** math.floor(math.log10(most))
    return max(step * power for step in (1, 2, 5) if step * power <= most)


def _km(value: float) -> str:
    return f"{value:g}"


def _round_scale(value: float) -> int:
    """Three significant figures: 1 : 9 870 000 says what matters of a scale."""
    digits = max(0, int(math.floor(math.log10(value))) - 2)
    return int(round(value / 10 ** digits) * 10 ** digits)


def _north_arrow(figure: Figure, ax, crs, view, page: Page, lang: str) -> None:
    """An arrow to true north where it is drawn: in a conic projection meridians converge, off-centre they lean."""
    size = 13 * page.k
    box = ax.get_position()
    left = box.x1 * page.width - size - 4 * page.k
    bottom = box.y1 * page.height - size - 4 * page.k
    at_x = view[0] + (left + size / 2 - box.x0 * page.width) / (box.width * page.width) * (view[1] - view[0])
    at_y = view[2] + (bottom + size / 2 - box.y0 * page.height) / (box.height * page.height) * (view[3] - view[2])
    angle = _north_angle(crs, at_x, at_y)
    inset = figure.add_axes(page.rect(left, bottom, size, size))
    inset.set_xlim(-1, 1)
    inset.set_ylim(-1, 1)
    inset.set_axis_off()
    inset.set_zorder(11)
    inset.add_patch(Rectangle((-1, -1), 2, 2, facecolor="white", alpha=0.85, edgecolor="none"))
    turn = lambda x, y: (x * math.cos(angle) + y * math.sin(angle), -x * math.sin(angle) + y * math.cos(angle))
    tip, notch, left_foot, right_foot = turn(0, 0.45), turn(0, -0.35), turn(-0.3, -0.65), turn(0.3, -0.65)
    inset.add_patch(Polygon([tip, left_foot, notch], closed=True, facecolor="#222222", edgecolor="#222222",
                            linewidth=0.5 * page.k))
    inset.add_patch(Polygon([tip, notch, right_foot], closed=True, facecolor="white", edgecolor="#222222",
                            linewidth=0.5 * page.k))
    letter = turn(0, 0.72)
    inset.text(letter[0], letter[1], word("north", lang), fontsize=8 * page.k, fontweight="bold", ha="center",
               va="center", rotation=-math.degrees(angle))


def _north_angle(crs, x: float, y: float) -> float:
    """Clockwise angle (radians) from grid up to true north at projected point (x, y)."""
    to_geo = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    to_map = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    lon, lat = to_geo.transform(x, y)
    nx, ny = to_map.transform(lon, lat + 0.05)
    return math.atan2(nx - x, ny - y)


def _header(figure: Figure, content: MapContent, page: Page) -> None:
    top = 1 - page.margin / page.height
    figure.text(page.margin / page.width, top, printable(content.title, 120), fontsize=16 * page.k,
                fontweight="bold", va="top", color=STYLE["text"])
    figure.text(page.margin / page.width, top - 9 * page.k / page.height, printable(content.subtitle, 160),
                fontsize=10 * page.k, va="top", color=STYLE["muted"])


def _footer_lines(content: MapContent, page: Page) -> list[str]:
    """Date, method version, projection and every source, wrapped to the page's width."""
    lang = content.lang
    first = (f"{word('date', lang)}: {content.on.isoformat()}   ·   {word('method', lang)}: {content.method}   ·   "
             f"{word('projection', lang)}, WGS 84")
    sources = f"{word('sources', lang)}: " + "; ".join(printable(s, 300) for s in content.sources)
    chars = int((page.width - 2 * page.margin) / (6.5 * page.k * 25.4 / 72 * 0.56))
    return [line for text in (first, sources) for line in textwrap.wrap(text, chars, break_long_words=False)]


def _footer(figure: Figure, lines: list[str], page: Page) -> None:
    step = page.line_mm(6.5 * page.k)
    for number, line in enumerate(reversed(lines)):
        figure.text(page.margin / page.width, (page.margin + number * step) / page.height, line,
                    fontsize=6.5 * page.k, va="bottom", color=STYLE["text"])


def _metadata(content: MapContent, fmt: str) -> dict[str, str]:
    text = {"Title": printable(content.title, 200), "Subject": printable(content.subtitle, 200)}
    if fmt == "pdf":
        return dict(text, Creator="kz-legacy-sites (sites export)", Keywords=content.method)
    return dict(text, Software="kz-legacy-sites (sites export)", Source="; ".join(content.sources))
