"""Import receptor and boundary layers from any vector file GDAL reads: checked, repaired, replaced atomically.

Population rule: a population value is a whole number of people, 0 or more. Empty values stay unknown. Plain
integers (also integral numbers such as 2000.0) are taken as they are. Text with thousands separators (space,
non-breaking or thin space, comma or apostrophe between groups of three digits, "2 000", "2,000") or with an
approximation mark in front ("~", "≈", "ca.", "c.", "circa", "approx.", "about", "около", "ок.", "примерно") is
normalised to the integer ("~2 000" -> 2000) and counted in ``ImportReport.approximate_population``. Anything else
("many", "-5", "2,5", 12.5) refuses the whole file naming the row and value: nothing is written.
"""

from __future__ import annotations

import numbers
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiLineString, MultiPoint, MultiPolygon
from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from gis import tables as t
from gis.errors import translate_integrity_error
from gis.layers import Feature, replace_receptor_layer
from gis.services import SITE_COLUMNS, write_audit
from sites import vocab
from sites.errors import InvalidInput
from sites.permissions import Actor, require
from sites.regions import BY_KATO

BOUNDARY_KINDS = vocab.BOUNDARY_LEVEL
KINDS = vocab.RECEPTOR_KIND + BOUNDARY_KINDS
POINT_KINDS = ("settlement", "school", "kindergarten", "hospital", "maternity", "well", "intake")
LINE_KINDS = ("river",)
DEFAULT_LICENCE = "not stated"
FORMATS = "a vector file GDAL reads (GeoJSON, GeoPackage, Shapefile, zipped Shapefile, KML)"

# Candidate attribute names, matched case-insensitively in this order when no field is given.
NAME_FIELDS = ("name", "name_en", "name:en", "name_ru", "name:ru", "name_kk", "name:kk")
POPULATION_FIELDS = ("population", "pop", "pop_total", "population_total")
KATO_FIELDS = ("kato", "kato_code", "kato_id")
PARENT_KATO_FIELDS = ("parent_kato", "parent_kato_code")
# Formats whose coordinates are WGS84 longitude/latitude by definition, with or without a declared CRS.
WGS84_DRIVERS = ("GeoJSON", "GeoJSONSeq", "TopoJSON", "KML", "LIBKML")

_MULTI = {"Point": MultiPoint, "LineString": MultiLineString, "Polygon": MultiPolygon}
_APPROX_MARK = re.compile(r"^(?:~|≈|ca\.?|c\.|circa|approx\.?|about|около|ок\.|примерно)\s*", re.IGNORECASE)
_GROUPED = re.compile(r"[0-9]{1,3}(?:[ ,'\u00a0\u2009\u202f][0-9]{3})+")
_DIGITS = re.compile(r"[0-9]+")


@dataclass
class ImportReport:
    """What an import read, loaded, repaired and dropped, and how many sites changed region or district."""

    kind: str
    layer_name: str
    read: int = 0
    loaded: int = 0
    repaired: int = 0
    dropped: int = 0
    approximate_population: int = 0
    sites_reassigned: int = 0


class MissingCRS(InvalidInput):
    """A layer gives no coordinate reference system, so its coordinates cannot be placed."""

    def __init__(self, path: Path):
        super().__init__("crs", None, "a .prj file or a GeoJSON in EPSG:4326")
        self.message = (f"{path.name} has no coordinate reference system; "
                        "expected e.g. a .prj file or a GeoJSON in EPSG:4326")
        self.args = (self.message,)


def import_layer(engine: Engine, actor: Actor, path: str | Path, kind: str, *, layer_name: str | None = None,
                 name_field: str | None = None, population_field: str | None = None,
                 kato_field: str | None = None, parent_kato_field: str | None = None,
                 source: str | None = None, licence: str | None = None) -> ImportReport:
    """Load a receptor layer or a level of boundaries from a vector file, replacing what was loaded before.

    Parameters
    ----------
    engine : Engine
        The register's database.
    actor : Actor
        Who loads the layer; needs the ``manage_layers`` action (admins).
    path : str or Path
        A file GDAL reads: GeoJSON, GeoPackage, Shapefile (also zipped), KML...
    kind : str
        A receptor kind (``settlement``, ``river``...) or a boundary level (``region``, ``district``).
    layer_name : str, optional
        The receptor layer's name (default: the file name without suffix); it also picks the layer to read
        from a file that holds several.
    name_field, population_field, kato_field, parent_kato_field : str, optional
        Attribute names; detected from common names when not given. Fields that do not exist are refused.
    source, licence : str, optional
        Where the data comes from (default: the file name) and its licence (default: "not stated"); for
        boundaries, which have no licence column, the licence is kept in brackets after the source.

    Returns
    -------
    ImportReport
        Counts of features read, loaded, repaired and dropped, approximate populations and reassigned sites.

    Raises
    ------
    InvalidInput
        For an unknown kind, a missing or unreadable file, a layer without CRS, an unknown field or a bad value;
        nothing is written then.
    PermissionDenied
        When ``actor`` may not manage layers.
    """
    if kind not in KINDS:
        raise InvalidInput("kind", kind, "one of " + ", ".join(KINDS))
    require(actor, "manage_layers")
    path = Path(path)
    _check_options(kind, population_field, kato_field, parent_kato_field)
    frame = read_layer(path, layer_name)
    report = ImportReport(kind, layer_name or path.stem, read=len(frame))
    if kind in BOUNDARY_KINDS:
        rows = _boundary_rows(frame, kind, report, name_field, kato_field, parent_kato_field)
        _refuse_empty(rows, path, kind, report)
        credit = (source or path.name) + (f" ({licence})" if licence else "")  # boundaries keep one source text
        report.sites_reassigned = _replace_boundaries(engine, actor, kind, rows, credit)
    else:
        features = _receptor_features(frame, kind, report, name_field, population_field)
        _refuse_empty(features, path, kind, report)
        replace_receptor_layer(engine, actor, kind, report.layer_name, source or path.name,
                               licence or DEFAULT_LICENCE, features)
    report.loaded = report.read - report.dropped
    return report


def _check_options(kind: str, population_field: str | None, kato_field: str | None,
                   parent_kato_field: str | None) -> None:
    """Refuse options that do not apply to ``kind`` rather than silently ignoring them."""
    boundary = kind in BOUNDARY_KINDS
    if boundary and population_field:
        raise InvalidInput("population_field", population_field, "no population field for boundaries")
    for option, value in (("kato_field", kato_field), ("parent_kato_field", parent_kato_field)):
        if value and not boundary:
            raise InvalidInput(option, value, "a KATO field only with kind region or district")
    if parent_kato_field and kind == "region":
        raise InvalidInput("parent_kato_field", parent_kato_field, "a parent KATO field only for districts")


def _refuse_empty(loaded: list, path: Path, kind: str, report: ImportReport) -> None:
    """An import that would leave nothing must not wipe the loaded layer."""
    if not loaded:
        raise InvalidInput("file", path.name, f"at least one {_family(kind).lower()} feature; "
                                              f"all {report.read} features were empty or of another geometry type")


# ---- reading -------------------------------------------------------------------------------------
def read_layer(path: Path, layer_name: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer of a vector file and return it in EPSG:4326.

    Parameters
    ----------
    path : Path
        The file; a zipped Shapefile is read as is.
    layer_name : str, optional
        Picks the layer when the file holds several; ignored when it holds one.
    """
    if not path.exists():
        raise InvalidInput("file", str(path), "an existing file: " + FORMATS)
    layer = _pick_layer(path, layer_name)
    try:
        driver = pyogrio.read_info(path, layer=layer)["driver"]
        with warnings.catch_warnings():
            # GeoJSON fields of mixed types ("~2 000" beside 350) stay text, which the value rules expect.
            warnings.filterwarnings("ignore", message="Could not parse column .* as JSON", category=UserWarning)
            frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        raise InvalidInput("file", path.name, f"{FORMATS} ({error})") from error
    return _to_wgs84(frame, path, driver)


def _pick_layer(path: Path, layer_name: str | None) -> str:
    try:
        names = [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as error:
        raise InvalidInput("file", path.name, FORMATS) from error
    if len(names) == 1:
        return names[0]
    if layer_name in names:
        return layer_name
    if not names:
        raise InvalidInput("file", path.name, "a file holding a vector layer")
    raise InvalidInput("layer_name", layer_name, "one of the file's layers: " + ", ".join(names))


def _to_wgs84(frame: gpd.GeoDataFrame, path: Path, driver: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        if driver not in WGS84_DRIVERS:
            raise MissingCRS(path)
        frame = frame.set_crs(4326)
    if not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs(4326)
    min_x, min_y, max_x, max_y = frame.total_bounds
    if len(frame) and not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        raise InvalidInput("coordinates", [round(float(v), 3) for v in frame.total_bounds],
                           "longitudes within -180..180 and latitudes within -90..90; is the file's CRS right?")
    return frame


def _field(frame: gpd.GeoDataFrame, given: str | None, candidates: tuple[str, ...], option: str) -> str | None:
    """The attribute to read: ``given`` if the file has it (else refused), otherwise the first candidate found."""
    fields = _attribute_names(frame)
    if given:
        if given not in fields:
            raise InvalidInput(option, given, "one of the file's fields: " + (", ".join(fields) or "(none)"))
        return given
    by_lower = {f.lower(): f for f in fields}
    return next((by_lower[c.lower()] for c in candidates if c.lower() in by_lower), None)


def _attribute_names(frame: gpd.GeoDataFrame) -> list[str]:
    return [str(c) for c in frame.columns if c != frame.geometry.name]


def _records(frame: gpd.GeoDataFrame) -> list[tuple[int, dict[str, Any], Any]]:
    """(row number counted from 1, attributes, geometry) of every feature, in file order."""
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name)).to_dict("records")
    return list(zip(range(1, len(frame) + 1), attributes, frame.geometry.array))


# ---- values --------------------------------------------------------------------------------------
def _missing(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _text(value: Any) -> str | None:
    return None if _missing(value) else str(value).strip()


def parse_population(value: Any, where: str) -> tuple[int | None, bool]:
    """Return ``(people, approximate)`` for one population value (rule in the module docstring).

    Examples
    --------
    >>> parse_population("~2\u2009000", "population in row 1")
    (2000, True)
    >>> parse_population(350, "population in row 2")
    (350, False)
    """
    if _missing(value):
        return None, False
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if float(value).is_integer() and value >= 0:
            return int(value), False
        raise _bad_population(where, value)
    text = str(value).strip()
    if _DIGITS.fullmatch(text):
        return int(text), False
    core = _APPROX_MARK.sub("", text, count=1)
    if _DIGITS.fullmatch(core) or _GROUPED.fullmatch(core):
        return int(re.sub(r"[^0-9]", "", core)), True
    raise _bad_population(where, value)


def _bad_population(where: str, value: Any) -> InvalidInput:
    return InvalidInput(where, value, "a whole number of people >= 0, such as 2000, '2 000' or '~2 000'")


def normalise_kato(value: Any, where: str) -> str:
    """A KATO code as its 9-character string; integral numbers (a numeric field) are accepted.

    Examples
    --------
    >>> normalise_kato(350000000.0, "KATO in row 1")
    '350000000'
    """
    text = _text(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer():
        text = str(int(value))
    if text is None or not re.fullmatch(r"[0-9]{9}", text):
        raise InvalidInput(where, value, "a 9-digit KATO code such as 350000000")
    return text


# ---- geometries ----------------------------------------------------------------------------------
def _family(kind: str) -> str:
    if kind in POINT_KINDS:
        return "Point"
    return "LineString" if kind in LINE_KINDS else "Polygon"


def _parts(geom: shapely.Geometry) -> list[shapely.Geometry]:
    """Single-part geometries of ``geom``, collections and multi-geometries exploded."""
    if geom.geom_type.startswith("Multi") or geom.geom_type == "GeometryCollection":
        return [part for member in geom.geoms for part in _parts(member)]
    return [geom]


def clean_geometry(geom: shapely.Geometry | None, family: str) -> tuple[shapely.Geometry | None, bool]:
    """Make ``geom`` valid and 2D and keep its parts of ``family``; return it (None if nothing is left)
    and whether it was repaired (made valid or stripped of parts of another type)."""
    if geom is None or geom.is_empty:
        return None, False
    flat = shapely.force_2d(geom)
    invalid = not flat.is_valid
    everything = _parts(shapely.make_valid(flat) if invalid else flat)
    kept = [p for p in everything if p.geom_type == family and not p.is_empty]
    if not kept:
        return None, invalid
    combined = kept[0] if len(kept) == 1 else _MULTI[family](kept)
    if not combined.is_valid:  # polygons of a repaired collection may touch along an edge
        combined = shapely.unary_union(kept)
    return combined, invalid or len(kept) < len(everything)


def _keep(geom: Any, family: str, report: ImportReport) -> shapely.Geometry | None:
    """Clean one feature's geometry and count it as repaired or dropped."""
    cleaned, repaired = clean_geometry(geom, family)
    if cleaned is None:
        report.dropped += 1
    elif repaired:
        report.repaired += 1
    return cleaned


# ---- receptors -----------------------------------------------------------------------------------
def _receptor_features(frame: gpd.GeoDataFrame, kind: str, report: ImportReport, name_field: str | None,
                       population_field: str | None) -> list[Feature]:
    """Every feature of ``frame`` as a receptor; values are checked for all rows before any is kept."""
    name_col = _field(frame, name_field, NAME_FIELDS, "name_field")
    population_col = _field(frame, population_field, POPULATION_FIELDS, "population_field")
    family, features = _family(kind), []
    for number, attributes, geom in _records(frame):
        people, approximate = None, False
        if population_col:
            people, approximate = parse_population(attributes[population_col],
                                                   f"{population_col} in row {number}")
        kept = _keep(geom, family, report)
        if kept is not None:
            report.approximate_population += approximate
            features.append(Feature(_text(attributes[name_col]) if name_col else None, people, kept))
    return features


# ---- boundaries ----------------------------------------------------------------------------------
def _boundary_rows(frame: gpd.GeoDataFrame, level: str, report: ImportReport, name_field: str | None,
                   kato_field: str | None, parent_field: str | None) -> list[dict[str, Any]]:
    """Rows of the ``boundary`` table, one per feature kept, KATO codes checked and unique."""
    kato_col = _field(frame, kato_field, KATO_FIELDS, "kato_field")
    if kato_col is None:
        raise InvalidInput("kato_field", None, "a KATO field; the file has: " + ", ".join(_attribute_names(frame)))
    parent_col = _field(frame, parent_field, PARENT_KATO_FIELDS, "parent_kato_field") if level == "district" else None
    names = _name_fields(frame, level, name_field)
    rows, seen = [], {}
    for number, attributes, geom in _records(frame):
        kato = _boundary_kato(attributes[kato_col], level, f"{kato_col} in row {number}", seen, number)
        kept = _keep(geom, "Polygon", report)
        if kept is None:
            continue
        row = {column: _text(attributes[field]) if field else None for column, field in names.items()}
        parent = normalise_kato(attributes[parent_col], f"{parent_col} in row {number}") if parent_col else None
        rows.append(dict(row, level=level, kato=kato, geom=_multipolygon(kept),
                         parent_kato=None if level == "region" else parent or kato[:2] + "0000000"))
    return rows


def _name_fields(frame: gpd.GeoDataFrame, level: str, name_field: str | None) -> dict[str, str | None]:
    """Which attribute holds each name column: ADM1_* for regions, ADM2_* for districts, else common names."""
    prefix = "ADM1" if level == "region" else "ADM2"
    return {
        "name_en": _field(frame, name_field, (f"{prefix}_EN",) + NAME_FIELDS, "name_field"),
        "name_ru": _field(frame, None, (f"{prefix}_RU", "name_ru", "name:ru"), "name_field"),
        "name_kk": _field(frame, None, (f"{prefix}_KK", "name_kk", "name:kk"), "name_field"),
    }


def _boundary_kato(value: Any, level: str, where: str, seen: dict[str, int], number: int) -> str:
    kato = normalise_kato(value, where)
    if level == "region" and kato not in BY_KATO:
        raise InvalidInput(where, kato, "the KATO code of one of Kazakhstan's 20 regions")
    if kato in seen:
        raise InvalidInput(where, kato, f"a KATO code not already used (row {seen[kato]} has it)")
    seen[kato] = number
    return kato


def _multipolygon(geom: shapely.Geometry):
    """The geometry as an EWKB element of a MultiPolygon, as the boundary column is typed."""
    multi = geom if geom.geom_type == "MultiPolygon" else MultiPolygon([geom])
    return from_shape(multi, srid=4326)


def _replace_boundaries(engine: Engine, actor: Actor, level: str, rows: list[dict[str, Any]], source: str) -> int:
    """Replace every boundary of ``level`` and reassign the sites' units, in one transaction.

    Returns the number of sites whose region or district changed.
    """
    try:
        with engine.begin() as conn:
            # One import of boundaries at a time: each reassigns sites from both levels.
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtext("boundary"))))
            loaded = select(func.count()).select_from(t.boundary).where(t.boundary.c.level == level)
            old = conn.execute(loaded).scalar_one()
            conn.execute(delete(t.boundary).where(t.boundary.c.level == level))
            conn.execute(insert(t.boundary), [dict(row, source=source) for row in rows])
            after = {"level": level, "count": len(rows), "source": source}
            write_audit(conn, actor, "update" if old else "insert", "boundary", level,
                        {"level": level, "count": old} if old else None, after)
            return _reassign_sites(conn, actor)
    except IntegrityError as error:
        raise translate_integrity_error(error) from error


# ---- sites ---------------------------------------------------------------------------------------
def _covering(level: str):
    """The KATO of the (first, by code) boundary of ``level`` covering the site's point."""
    b = t.boundary.alias(f"covering_{level}")
    return (select(b.c.kato).where(b.c.level == level, func.ST_Covers(b.c.geom, t.site.c.geom))
            .order_by(b.c.kato).limit(1).scalar_subquery().label(f"new_{level}"))


def _site_moves(conn: Connection) -> dict[int, tuple[str | None, str | None]]:
    """Sites whose (region, district) differ from the boundaries covering them; sites outside keep theirs."""
    query = (select(t.site.c.id, t.site.c.region_kato, t.site.c.district_kato,
                    _covering("region"), _covering("district"))
             .order_by(t.site.c.id).with_for_update(of=t.site))
    moves = {}
    for site_id, region, district, new_region, new_district in conn.execute(query):
        target = (new_region or region, new_district or district)
        if target != (region, district):
            moves[site_id] = target
    return moves


def _reassign_sites(conn: Connection, actor: Actor) -> int:
    """Set region_kato and district_kato from the loaded boundaries, one version bump and audit row per site."""
    moves = _site_moves(conn)
    if not moves:
        return 0
    before = _sites(conn, list(moves))
    statement = (update(t.site).where(t.site.c.id == bindparam("site"))
                 .values(region_kato=bindparam("region"), district_kato=bindparam("district"),
                         version=t.site.c.version + 1, updated_at=func.now()))
    conn.execute(statement, [{"site": i, "region": r, "district": d} for i, (r, d) in moves.items()])
    after = _sites(conn, list(moves))
    for site_id in moves:
        write_audit(conn, actor, "update", "site", site_id, before[site_id], after[site_id])
    return len(moves)


def _sites(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = conn.execute(select(*SITE_COLUMNS).where(t.site.c.id.in_(ids))).mappings()
    return {row["id"]: dict(row) for row in rows}


def boundary_levels(engine: Engine) -> list[dict[str, Any]]:
    """Loaded boundary levels with their feature count, source and load time."""
    query = (select(t.boundary.c.level, func.count().label("count"), func.max(t.boundary.c.source).label("source"),
                    func.max(t.boundary.c.loaded_at).label("loaded_at"))
             .group_by(t.boundary.c.level).order_by(t.boundary.c.level))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
