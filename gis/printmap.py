"""Print maps of the register: a 300 dpi PNG or a vector PDF, A4 or A3, of the country, a region or chosen sites."""

from __future__ import annotations

import math
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable

import geopandas as gpd
from shapely.geometry import Point, box
from sqlalchemy import Connection, Engine, func, select, true

from gis import tables as t
from gis.printmap_draw import PAPERS_MM, MapContent, map_aspect, render
from gis.printmap_words import LANGUAGES, word
from gis.public import frame_for
from gis.queries import receptor_points
from sites.errors import InvalidInput
from sites.permissions import Actor
from sites.regions import BY_KATO, REGIONS, Region, parse_region
from sites.scoring.tables import METHOD_NAME, METHOD_VERSION

FORMATS = ("png", "pdf")
ORIENTATIONS = ("portrait", "landscape")
# Kazakhstan's outline with a little margin: the country view when no region boundaries are loaded.
COUNTRY_BOUNDS = (46.4, 40.5, 87.4, 55.5)
MIN_SPAN = 0.25  # degrees; a view around a single site still shows some 25 km of its surroundings
MAX_LABELLED_SITES = 60  # beyond this, names overprint each other; the legend still counts every site
TOWNS = {"country": 20, "local": 15}
CITY_KATOS = {"710000000", "750000000", "790000000"}  # cities of republican significance: no "region" after them
CODE = re.compile(r"^KZ-[A-Z]{3}-[0-9]{4}$")


@dataclass(frozen=True)
class PrintedMap:
    """What was printed: the file, the sheet, the sites drawn per class, the layers, sources and method."""

    path: Path
    fmt: str
    paper: str
    orientation: str
    page_mm: tuple[float, float]
    classes: dict[str, int]  # "1", "2", "3", "N", "I" or "unscored" -> number of sites drawn
    codes: tuple[str, ...]
    layers: tuple[str, ...]
    sources: tuple[str, ...]
    method: str
    on: date
    projection: str
    scale: int


def print_map(engine: Engine, path: str | Path, *, fmt: str = "pdf", paper: str = "a4",
              orientation: str = "landscape", region: str | None = None, codes: str | Iterable[str] = (),
              title: str | None = None, lang: str = "en", on: date | None = None,
              actor: Actor | None = None) -> PrintedMap:
    """Draw the register's sites on one sheet and write it to ``path``, all or nothing.

    Parameters
    ----------
    fmt : {"pdf", "png"}
        A vector PDF (text stays text) or a PNG at 300 dpi.
    paper, orientation : {"a4", "a3"}, {"portrait", "landscape"}
    region : str, optional
        A region's KATO code, ISO code or name (any of the three languages): its sites only, framed by its
        boundary when loaded, else by its sites.
    codes : str or iterable of str, optional
        Site codes (``"KZ-PAV-0001,KZ-KAR-0002"``): these sites only. Not together with ``region``.
    title : str, optional
        The sheet's title (default: "Historical pollution sites" in ``lang``).
    lang : {"kk", "ru", "en"}
        Language of the title, legend and credits; site and place names are printed as stored, in ``lang``
        where the register has them.
    on : date, optional
        The date printed on the sheet (default: today).
    actor : Actor, optional
        Who the sheet is for; the public (``sites.permissions.PUBLIC``) gets confidential sites generalised.

    Raises
    ------
    InvalidInput
        For a value outside those listed (naming what was expected), an unknown site code or region, or an
        output folder that does not exist; no file is written then.
    """
    fmt, paper = _choice("format", fmt, FORMATS), _choice("paper", paper, PAPERS_MM)
    orientation, lang = _choice("orientation", orientation, ORIENTATIONS), _choice("lang", lang, LANGUAGES)
    path = _output(path)
    content = map_content(engine, region=region, codes=codes, title=title, lang=lang, on=on or date.today(),
                          aspect=map_aspect(paper, orientation), actor=actor)
    drawn = _write(content, paper, orientation, fmt, path)
    short, long = PAPERS_MM[paper]
    classes = content.sites["priority_class"].fillna("unscored").value_counts()
    return PrintedMap(path, fmt, paper, orientation, (long, short) if orientation == "landscape" else (short, long),
                      {str(k): int(v) for k, v in classes.items()}, tuple(content.sites["code"]),
                      tuple(name for name, frame in content.layers.items() if len(frame)), tuple(content.sources),
                      content.method, content.on, drawn.projection, drawn.scale)


def map_content(engine: Engine, *, region: str | None = None, codes: str | Iterable[str] = (),
                title: str | None = None, lang: str = "en", on: date | None = None,
                aspect: float = 1.5, actor: Actor | None = None) -> MapContent:
    """Everything one print map shows, read from the register (EPSG:4326), with words in ``lang``; for the public
    ``actor``, confidential sites only where the public view places them (``gis.public``).

    ``aspect`` (width / height of the map on the sheet) widens the area read so that the parts of the sheet
    beside a tall region or above a wide one are drawn too, not left blank.
    """
    chosen = find_region(region) if region not in (None, "") else None
    codes = parse_codes(codes)
    if chosen and codes:
        raise InvalidInput("sites", ",".join(codes), "either a region or a list of sites, not both")
    local = bool(chosen or codes)
    with engine.connect() as conn:
        sites = frame_for(actor, _sites(conn, lang, chosen, codes))
        _check_found(codes, sites)
        framed = _bounds(conn, chosen, codes, sites, region)
        layers, sources = _layers(conn, _fit(framed, aspect), local, lang)
    towns, credit = _towns(engine, framed, TOWNS["local" if local else "country"])
    if len(towns):
        layers["towns"] = towns
        sources.append(f"{word('towns', lang)}: {credit}")
    sources.insert(0, f"{word('sites', lang)}: {word('register', lang)}")
    subtitle = f"{_scope(chosen, codes, lang)} · {word('count', lang, n=len(sites))}"
    return MapContent(title or word("title", lang), subtitle, lang, _focus(chosen, codes, sites, layers),
                      sites, local and len(sites) <= MAX_LABELLED_SITES, layers,
                      chosen.kato if chosen else None, sources, _method(sites, lang), on or date.today())


def find_region(value: str) -> Region:
    """A region by KATO code, ISO code (KZ-PAV or PAV) or name in Kazakh, Russian or English."""
    folded = " ".join(str(value).split()).casefold()
    for region in REGIONS:
        names = {n for lang in LANGUAGES for n in (getattr(region, f"name_{lang}"),
                                                   word("region", lang, name=getattr(region, f"name_{lang}")))}
        if folded in {n.casefold() for n in names}:
            return region
    try:
        return BY_KATO[parse_region(value)]
    except InvalidInput as error:
        raise InvalidInput("region", value, "a region's KATO code (550000000), ISO code (KZ-PAV or PAV) or name "
                                            "(Pavlodar, Павлодарская, Павлодар)") from error


def parse_codes(value: str | Iterable[str]) -> tuple[str, ...]:
    """Site codes from ``"KZ-PAV-0001, KZ-KAR-0002"`` or a list, upper-cased, each once, in the given order."""
    items = re.split(r"[,\s]+", value) if isinstance(value, str) else list(value)
    items = [str(item).strip() for item in items if str(item).strip()]
    for item in items:
        if not CODE.match(item.upper()):
            raise InvalidInput("sites", item, "site codes like KZ-PAV-0003, separated by commas")
    return tuple(dict.fromkeys(item.upper() for item in items))


def _choice(field: str, value, allowed) -> str:
    text = str(value).strip().lower()
    if text not in allowed:
        raise InvalidInput(field, value, "one of " + ", ".join(allowed))
    return text


def _output(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        raise InvalidInput("output", str(path), "a file name, not a folder")
    if not path.parent.is_dir():
        raise InvalidInput("output", str(path), "a file in an existing folder")
    return path


def _write(content: MapContent, paper: str, orientation: str, fmt: str, path: Path):
    """Render into a temporary file beside ``path`` and rename it: a failure leaves no half-written map."""
    handle, temporary = tempfile.mkstemp(suffix=f".{fmt}", prefix=".printmap-", dir=path.parent)
    os.close(handle)
    os.unlink(temporary)  # matplotlib creates the file itself, with the user's usual permissions
    try:
        drawn = render(content, paper, orientation, fmt, Path(temporary))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return drawn


def _names(table, lang: str):
    """The name in ``lang``, else in the other languages the register holds."""
    order = dict.fromkeys((lang, "ru", "kk", "en"))
    return func.coalesce(*(table.c[f"name_{code}"] for code in order))


def _sites(conn: Connection, lang: str, region: Region | None, codes: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Live sites with their latest score's class and method (as the ``sites`` view does), filtered."""
    s, sc = t.site, t.score
    latest = (select(sc.c.priority_class, sc.c.method, sc.c.method_version).where(sc.c.site_id == s.c.id)
              .order_by(sc.c.computed_at.desc(), sc.c.id.desc()).limit(1).lateral("latest"))
    query = (select(s.c.code, _names(s, lang).label("name"), latest.c.priority_class, latest.c.method,
                    latest.c.method_version, s.c.confidential, s.c.geom)
             .select_from(s.outerjoin(latest, true())).where(~s.c.archived).order_by(s.c.code))
    if region is not None:
        query = query.where(s.c.region_kato == region.kato)
    if codes:
        query = query.where(s.c.code.in_(codes))
    return gpd.read_postgis(query, conn, geom_col="geom", crs="EPSG:4326")


def _check_found(codes: tuple[str, ...], sites: gpd.GeoDataFrame) -> None:
    missing = [code for code in codes if code not in set(sites["code"])]
    if missing:
        raise InvalidInput("sites", ",".join(missing), "codes of live (not archived) sites in the register")


def _bounds(conn: Connection, region: Region | None, codes, sites: gpd.GeoDataFrame, asked) -> tuple:
    """The view in degrees: the region's boundary, the country's, or the sites, always with every site drawn."""
    parts = [tuple(sites.total_bounds)] if len(sites) else []
    if not codes:
        stored = _boundary_extent(conn, region)
        if stored or region is None:
            parts.append(stored or COUNTRY_BOUNDS)
    if not parts:
        raise InvalidInput("region", asked, "a region with a loaded boundary or at least one site")
    west, south = min(p[0] for p in parts), min(p[1] for p in parts)
    east, north = max(p[2] for p in parts), max(p[3] for p in parts)
    grow_x, grow_y = max(0.0, MIN_SPAN - (east - west)) / 2, max(0.0, MIN_SPAN - (north - south)) / 2
    return west - grow_x, south - grow_y, east + grow_x, north + grow_y


def _fit(bounds: tuple, aspect: float) -> tuple:
    """``bounds`` grown to the sheet's proportions (in ground distance) with a fifth more around, as the
    drawing will frame it."""
    west, south, east, north = bounds
    squeeze = math.cos(math.radians((south + north) / 2))  # a degree of longitude is shorter than one of latitude
    width, height = max((east - west) * squeeze, MIN_SPAN), max(north - south, MIN_SPAN)
    width, height = max(width, height * aspect) * 1.4, max(height, width / aspect) * 1.4
    middle_x, middle_y = (west + east) / 2, (south + north) / 2
    return (middle_x - width / squeeze / 2, max(-89.0, middle_y - height / 2),
            middle_x + width / squeeze / 2, min(89.0, middle_y + height / 2))


def _boundary_extent(conn: Connection, region: Region | None) -> tuple | None:
    b = t.boundary
    extent = func.ST_Extent(b.c.geom)
    query = select(func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent), func.ST_YMax(extent))
    query = query.where(b.c.level == "region")
    if region is not None:
        query = query.where(b.c.kato == region.kato)
    row = conn.execute(query).one()
    return None if row[0] is None else tuple(row)


def _envelope(bounds):
    return func.ST_MakeEnvelope(*bounds, 4326)


def _layers(conn: Connection, bounds, local: bool, lang: str) -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """Boundaries and water in the view, simplified to what the sheet can show, with one credit per layer."""
    tolerance = (bounds[2] - bounds[0]) / 4000  # about a tenth of a millimetre on the sheet
    layers, sources = {}, []
    for level, key in (("region", "regions"), ("district", "districts")):
        if level == "district" and not local:
            continue  # 224 districts at country scale are a grey smudge
        frame, source = _boundaries(conn, level, bounds, tolerance, lang)
        if len(frame):
            layers[key] = frame
            sources.append(f"{word(key, lang)}: {source}")
    for kind, key in (("lake", "lakes"), ("river", "rivers")):
        frame, layer = _water(conn, kind, bounds, tolerance)
        if len(frame):
            layers[key] = frame
            sources.append(f"{word(key, lang)}: {layer['source']} ({layer['licence']})")
    return layers, sources


def _boundaries(conn: Connection, level: str, bounds, tolerance: float, lang: str) -> tuple[gpd.GeoDataFrame, str]:
    b, r = t.boundary, t.region
    label = func.coalesce(b.c[f"name_{lang}"], r.c[f"name_{lang}"], _names(b, lang))
    query = (select(b.c.kato, label.label("label"), b.c.source,
                    func.ST_SimplifyPreserveTopology(b.c.geom, tolerance).label("geom"))
             .select_from(b.outerjoin(r, r.c.kato == b.c.kato))
             .where(b.c.level == level, b.c.geom.op("&&")(_envelope(bounds))).order_by(b.c.kato))
    frame = gpd.read_postgis(query, conn, geom_col="geom", crs="EPSG:4326")
    return frame.drop(columns="source"), (frame["source"].iloc[0] if len(frame) else "")


def _water(conn: Connection, kind: str, bounds, tolerance: float) -> tuple[gpd.GeoDataFrame, dict | None]:
    """The newest layer of ``kind`` (the one exposure counts use) within the view, as one merged shape.

    Layers are stored cut into small pieces (``gis.layers.MAX_VERTICES``); drawn as stored, a lake would show the
    seams of its pieces as a grid and a river would be hundreds of separate strokes.
    """
    rl, rc = t.receptor_layer, t.receptor
    layer = conn.execute(select(rl.c.id, rl.c.source, rl.c.licence).where(rl.c.kind == kind)
                         .order_by(rl.c.loaded_at.desc(), rl.c.id.desc()).limit(1)).mappings().first()
    if layer is None:
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), None
    merged = func.ST_Union(rc.c.geom)
    merged = func.ST_LineMerge(merged) if kind == "river" else merged
    query = (select(func.ST_SimplifyPreserveTopology(merged, tolerance).label("geom"))
             .where(rc.c.layer_id == layer["id"], rc.c.geom.op("&&")(_envelope(bounds))))
    frame = gpd.read_postgis(query, conn, geom_col="geom", crs="EPSG:4326")
    return frame[frame.geometry.notna() & ~frame.geometry.is_empty], layer


def _towns(engine: Engine, bounds, count: int) -> tuple[gpd.GeoDataFrame, str]:
    """The most populous places within ``bounds`` (the region's or the sites', not all the neighbours'), none
    closer to a larger one than a fiftieth of the width: a layer often holds one town twice (Алматы and Almaty)."""
    points, layer = receptor_points(engine, "settlement", limit=3000)
    west, south, east, north = bounds
    gap, kept = (east - west) / 50, []
    # A town a little beyond the outermost site is still on the sheet.
    west, south, east, north = west - 5 * gap, south - 5 * gap, east + 5 * gap, north + 5 * gap
    for p in points:
        if p["population"] is None or not (west <= p["lon"] <= east and south <= p["lat"] <= north):
            continue
        squeeze = math.cos(math.radians(p["lat"]))
        if all(math.hypot((p["lon"] - q["lon"]) * squeeze, p["lat"] - q["lat"]) > gap for q in kept):
            kept.append(p)
        if len(kept) == count:
            break
    frame = gpd.GeoDataFrame({"name": [p["name"] for p in kept]},
                             geometry=[Point(p["lon"], p["lat"]) for p in kept], crs="EPSG:4326")
    return frame, f"{layer.get('source')} ({layer.get('licence')})" if layer else ""


def _focus(region: Region | None, codes, sites: gpd.GeoDataFrame, layers) -> gpd.GeoSeries:
    """What the sheet must frame: the sites, with the region's or the country's outline unless sites were chosen."""
    shapes = list(sites.geometry)
    regions = layers.get("regions")
    if not codes and regions is not None:
        shapes += list(regions.geometry if region is None else regions[regions["kato"] == region.kato].geometry)
    elif not codes and region is None:
        shapes.append(box(*COUNTRY_BOUNDS))
    return gpd.GeoSeries(shapes, crs="EPSG:4326")


def _scope(region: Region | None, codes: tuple[str, ...], lang: str) -> str:
    if codes:
        return word("selection", lang)
    if region is None:
        return word("country", lang)
    name = getattr(region, f"name_{lang}")
    return name if region.kato in CITY_KATOS else word("region", lang, name=name)


def _method(sites: gpd.GeoDataFrame, lang: str) -> str:
    """The method and version of the scores drawn; the current one, marked unscored, when none is."""
    used = sorted({f"{m} {v}" for m, v in zip(sites["method"], sites["method_version"]) if m})
    return ", ".join(used) if used else f"{METHOD_NAME} {METHOD_VERSION} ({word('not scored', lang)})"
