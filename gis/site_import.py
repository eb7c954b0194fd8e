"""Bulk import of sites and samples: every row checked and explained, then stored in one transaction.

Public API (the ``sites import`` command and the app's import page call these; none of them prints):

- :func:`read_table` (from :mod:`gis.import_readers`): read CSV, XLSX, JSON records, GeoJSON, GeoPackage, Shapefile,
  KML/KMZ or a zip of them into a :class:`Table`, refusing oversized, corrupt or unsafe files.
- :func:`detect_mapping`, :func:`load_mapping` (from :mod:`gis.import_mapping`) and :func:`effective_mapping`: which
  column fills which field; ``Mapping.to_json()`` writes it for editing and reuse.
- :func:`parse_extent`: ``"kz"``, ``"world"`` or ``"minlon,minlat,maxlon,maxlat"``.
- :func:`preview`: validate every row against the register and write nothing; the :class:`Report` says what a commit
  would do.
- :func:`commit`: validate again inside one transaction and store; all or nothing unless ``valid_only``.
- :func:`import_file`: read, map and preview or commit in one call.

Rules:

- Every row ends up imported, unchanged or rejected: ``rows_read == imported + unchanged + rejected``. A rejection
  names the row, its place in the file, the column, the value and what was expected. In all-or-nothing mode (the
  default) one rejected row stores nothing; the valid rows are then counted as rejected too ("held back").
- Rows are keyed by the mapping's ``row_key`` columns (else by their content) within a ``source``. A row already
  imported from that source with the same SHA-256 is unchanged; one whose key was imported with other content is
  rejected, never overwritten. Repeated rows within the file (same key or same content) are rejected.
- Sites: coordinates from lat/lon columns, from x/y with a CRS, or from the layer's geometry (points; polygons give a
  footprint and a representative point; a self-crossing polygon is refused, or with ``"on_invalid_polygon":
  "repair"`` repaired with ``make_valid`` and warned about, and refused when nothing polygonal is left).
  Swapped and projected coordinates and points outside the register's extent are explained. A stored site within 500 m or with a similar name is a warning (a rejection with
  ``"on_duplicate": "reject"``). Region and district come from loaded boundaries, the code from the region's series.
- Samples find their site by ``site_ref``; contaminants by catalogue code, CAS number or name; units are normalised
  by :mod:`sites.units` for the medium. ``Report.reasons`` counts rejections per reason.
- The acting user needs ``edit_site`` in each row's region, as for single edits.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson
import pyproj
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from shapely.validation import explain_validity
from sqlalchemy import Connection, Engine, Text, any_, bindparam, func, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from gis import tables as t
from gis.duplicates import find_duplicates_many
from gis.errors import translate_integrity_error
from gis.import_mapping import (
    FieldRule, Mapping, apply_rules, as_text, check_columns, check_mapping, detect_mapping, field_rules, load_mapping,
    merge,
)
from gis.import_readers import DEFAULT_MAX_BYTES, SourceRow, Table, read_table
from gis.layer_import import clean_geometry
from gis.services import SITE_COLUMNS, STORED_FIELDS, allocate_codes, write_audit
from sites.errors import InvalidInput, PermissionDenied
from sites.permissions import Actor, require, require_somewhere
from sites.records import FIELDS_BY_NAME, KAZAKHSTAN_EXTENT, WORLD_EXTENT, Extent, geometry_sha256, validate_site
from sites.regions import region_of
from sites.samples import NOT_DETECTED, validate_sample

__all__ = ["Problem", "Report", "Table", "Mapping", "read_table", "detect_mapping", "load_mapping",
           "effective_mapping", "parse_extent", "preview", "commit", "import_file"]

EXTENTS = {"kz": KAZAKHSTAN_EXTENT, "world": WORLD_EXTENT}
STORED_PROBLEMS = 1000  # rejections and warnings kept in import_batch.report; the command's report has all
HELD_BACK = "held back: other rows were rejected and the import is all or nothing (use --valid-only)"
_CAS = re.compile(r"^\d{2,7}-\d{2}-\d$")
_QUALIFIER_WORDS = {"<=": "<", "≤": "<", ">=": ">", "≥": ">", "=": None}
_UNITS_SQL = text("""
SELECT u.i, b.level, b.kato
FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS u(lon, lat, i)
JOIN boundary b ON ST_Covers(b.geom, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326))
ORDER BY b.kato DESC
""")  # smallest KATO last, so it wins where boundaries overlap (as layer import reassigns sites)


# ---- reports -------------------------------------------------------------------------------------------------------
@dataclass
class Problem:
    """A rejection or warning: which row (number and place in the file), column and value, and why."""

    row: int
    where: str
    column: str
    value: Any
    reason: str
    kind: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "where": self.where, "column": self.column, "value": _plain(self.value),
                "reason": self.reason}


@dataclass
class Report:
    """The outcome of a preview or commit; ``rows_read == imported + unchanged + rejected`` always."""

    target: str
    source: str
    filename: str
    rows_read: int = 0
    imported: int = 0
    unchanged: int = 0
    rejected: int = 0
    held_back: int = 0
    rejections: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    batch_id: int | None = None
    committed: bool = False
    dry_run: bool = False
    site_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    _rejected_rows: set[int] = field(default_factory=set, repr=False)

    def reject(self, row: SourceRow, column: str, value: Any, reason: str, kind: str) -> None:
        self.rejections.append(Problem(row.number, row.where, column, value, reason, kind))
        self._rejected_rows.add(row.number)

    def warn(self, row: SourceRow, column: str, value: Any, reason: str, kind: str) -> None:
        self.warnings.append(Problem(row.number, row.where, column, value, reason, kind))

    @property
    def reasons(self) -> dict[str, int]:
        """Rejections counted per reason, most frequent first (a row with two problems counts in both)."""
        counts = Counter(p.kind for p in self.rejections)
        if self.held_back:
            counts[HELD_BACK] = self.held_back
        return dict(counts.most_common())

    def to_json(self, limit: int | None = None) -> dict[str, Any]:
        """The report as JSON-ready data; ``limit`` keeps only the first rejections and warnings."""
        return {
            "rows_read": self.rows_read, "imported": self.imported, "unchanged": self.unchanged,
            "rejected": self.rejected, "held_back": self.held_back,
            "rejections": [p.to_json() for p in self.rejections[:limit]],
            "warnings": [p.to_json() for p in self.warnings[:limit]],
            "reasons": self.reasons, "batch_id": self.batch_id, "committed": self.committed,
            "dry_run": self.dry_run, "target": self.target, "source": self.source, "file": self.filename,
            "notes": self.notes, "seconds": round(self.seconds, 2),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON, and so the batch's stored report, has no NaN or Infinity
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value.wkt if isinstance(value, shapely.Geometry) else str(value)


@dataclass
class _Row:
    """A source row on its way in: its key and hash, then the cleaned record (and, for samples, its site)."""

    source: SourceRow
    key: str
    sha: str
    cleaned: dict[str, Any] | None = None
    origins: dict[str, str] = field(default_factory=dict)
    site_id: int | None = None
    region: str | None = None


# ---- entry points --------------------------------------------------------------------------------------------------
def parse_extent(value: str | Extent) -> Extent:
    """The register's extent from ``"kz"``, ``"world"`` or ``"minlon,minlat,maxlon,maxlat"``.

    Examples
    --------
    >>> parse_extent("5.9,45.8,10.5,47.9")
    (5.9, 45.8, 10.5, 47.9)
    """
    if not isinstance(value, str):
        return tuple(value)
    if value.strip().lower() in EXTENTS:
        return EXTENTS[value.strip().lower()]
    expected = "kz, world or minlon,minlat,maxlon,maxlat in degrees"
    try:
        box = tuple(float(part) for part in value.split(","))
    except ValueError:
        raise InvalidInput("extent", value, expected) from None
    if len(box) != 4 or not (-180 <= box[0] < box[2] <= 180 and -90 <= box[1] < box[3] <= 90):
        raise InvalidInput("extent", value, expected)
    return box


def effective_mapping(table: Table, given: Mapping | None = None, *, target: str | None = None,
                      source: str | None = None, crs: str | None = None) -> Mapping:
    """The mapping to import ``table`` with: detected from its headers, overridden by ``given`` and the options.

    The source defaults to the file name without suffix; naming it (``source``) keeps re-imports of renamed files
    idempotent.
    """
    detected = detect_mapping(table.columns, target or (given.target if given else None))
    mapping = copy.deepcopy(merge(detected, given))  # the caller's mapping stays as loaded, for the next file
    mapping.target = target or mapping.target
    mapping.source = source or mapping.source or Path(table.name).stem
    mapping.crs = crs or mapping.crs
    check_mapping(mapping)
    check_columns(mapping, table.columns, table.has_geometry)
    return mapping


def preview(engine: Engine, actor: Actor, table: Table, mapping: Mapping, *, extent: Extent = KAZAKHSTAN_EXTENT,
            valid_only: bool = False) -> Report:
    """Check every row as :func:`commit` would, against the stored register, and write nothing.

    Returns
    -------
    Report
        Counts as a commit would make them, every rejection and warning; ``dry_run`` is True.
    """
    require_somewhere(actor, "edit_site")  # who may edit nowhere is refused before any row is checked
    started = time.perf_counter()
    with engine.connect() as conn:
        report, _ = _plan(conn, actor, table, mapping, extent, valid_only)
        conn.rollback()
    report.dry_run, report.seconds = True, time.perf_counter() - started
    return report


def commit(engine: Engine, actor: Actor, table: Table, mapping: Mapping, *, extent: Extent = KAZAKHSTAN_EXTENT,
           valid_only: bool = False) -> Report:
    """Check every row and store the records in one transaction, with an import batch and a record per row.

    Parameters
    ----------
    engine, actor
        The register and who imports (needs ``edit_site`` in each row's region).
    table, mapping
        What :func:`read_table` read and :func:`effective_mapping` decided.
    extent
        Where sites may lie (min lon, min lat, max lon, max lat); Kazakhstan unless a test register says otherwise.
    valid_only
        Store the valid rows and reject the others; by default one rejected row stores nothing.

    Returns
    -------
    Report
        ``committed`` says whether anything was stored; ``batch_id`` names the import batch.
    """
    require_somewhere(actor, "edit_site")
    started = time.perf_counter()
    try:
        with engine.begin() as conn:
            # One import per source at a time: both would otherwise find the same rows new.
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtext("import:" + mapping.source))))
            report, ready = _plan(conn, actor, table, mapping, extent, valid_only)
            if ready:
                _store(conn, actor, table, mapping, report, ready, valid_only)
    except IntegrityError as error:
        raise translate_integrity_error(error) from error
    if report.committed:
        _rescore(engine, report.site_ids)
    report.seconds = time.perf_counter() - started
    return report


def import_file(engine: Engine, actor: Actor, path: str | Path, *, mapping: Mapping | None = None,
                target: str | None = None, source: str | None = None, crs: str | None = None,
                sheet: str | None = None, layer: str | None = None, extent: Extent = KAZAKHSTAN_EXTENT,
                valid_only: bool = False, dry_run: bool = False, max_bytes: int = DEFAULT_MAX_BYTES,
                on_mapping: Callable[[Mapping, Table], None] | None = None) -> Report:
    """Read ``path``, settle the mapping and preview (``dry_run``) or commit.

    Parameters
    ----------
    mapping
        A loaded mapping (its reading options apply: records_path, sheet, layer, encoding, delimiter); columns it
        leaves open are detected from the header names.
    target, source, crs, sheet, layer
        Override the mapping's.
    extent, valid_only
        As for :func:`commit`.
    max_bytes
        Files (and zip contents) larger than this are refused before reading.
    on_mapping
        Called with the settled mapping and the table before any row is checked, e.g. to save the mapping.

    Raises
    ------
    InvalidInput
        For a file or mapping refused as a whole; row problems are in the report instead.
    """
    require_somewhere(actor, "edit_site")  # before the file is even read
    given = mapping or Mapping()
    table = read_table(path, sheet=sheet or given.sheet, layer=layer or given.layer, records_path=given.records_path,
                       encoding=given.encoding, delimiter=given.delimiter, max_bytes=max_bytes)
    settled = effective_mapping(table, mapping, target=target, source=source, crs=crs)
    if on_mapping is not None:
        on_mapping(settled, table)
    run = preview if dry_run else commit
    report = run(engine, actor, table, settled, extent=extent, valid_only=valid_only)
    report.notes[:0] = table.notes
    return report


# ---- planning: what each row becomes -------------------------------------------------------------------------------
def _plan(conn: Connection, actor: Actor, table: Table, mapping: Mapping, extent: Extent,
          valid_only: bool) -> tuple[Report, list[_Row]]:
    report = Report(mapping.target, mapping.source, table.name, rows_read=len(table.rows))
    rows = _keyed_rows(table, mapping, report)
    rows = _not_stored(conn, rows, mapping, report)
    if mapping.target == "site":
        ready = _plan_sites(conn, actor, rows, mapping, extent, report)
    else:
        ready = _plan_samples(conn, actor, rows, mapping, report)
    return report, _settle(report, ready, valid_only)


def _settle(report: Report, ready: list[_Row], valid_only: bool) -> list[_Row]:
    """Final counts; all or nothing holds the valid rows back when any row was rejected."""
    problems = len(report._rejected_rows)
    if problems and not valid_only:
        report.held_back, ready = len(ready), []
    report.imported = len(ready)
    report.rejected = problems + report.held_back
    return ready


def row_sha256(row: SourceRow) -> str:
    """SHA-256 of a row's values (in column order, as read) and geometry: equal exactly when the row is unchanged."""
    try:
        digest = hashlib.sha256(orjson.dumps(row.values, default=str))
    except TypeError:  # orjson refuses integers beyond 64 bits (JSON records, a spreadsheet's 1e300): as text
        digest = hashlib.sha256(orjson.dumps({k: str(v) if type(v) is int else v for k, v in row.values.items()},
                                             default=str))
    if row.geometry is not None:
        digest.update(shapely.to_wkb(row.geometry, byte_order=1))
    return digest.hexdigest()


def _keyed_rows(table: Table, mapping: Mapping, report: Report) -> list[_Row]:
    """Rows with key and hash; rows the reader could not split, and repeats within the file, are rejected."""
    by_sha: dict[str, SourceRow] = {}
    by_key: dict[str, SourceRow] = {}
    rows = []
    key_column = ", ".join(mapping.row_key) or "(row content)"
    for source in table.rows:
        sha = row_sha256(source)
        key = _row_key(source, mapping.row_key) if mapping.row_key else sha
        if source.error:
            report.reject(source, "(row)", None, source.error, "row does not fit the header")
        elif nul := _nul_column(source):  # PostgreSQL text cannot hold NUL; the value is not echoed for that reason
            report.reject(source, nul, None, f"{nul}: expected text without NUL characters (a damaged or binary "
                          "file?), received a value containing one", "NUL character in a value")
        elif key is None:
            report.reject(source, key_column, None, f"a value in the row key column(s) {key_column}", "blank row key")
        elif sha in by_sha:
            first = by_sha[sha]
            report.reject(source, "(row)", None, f"repeats row {first.number} ({first.where}) exactly", "repeated row")
        elif key in by_key:
            first = by_key[key]
            report.reject(source, key_column, key, f"repeats the row key of row {first.number} ({first.where}) with "
                          "different values; the first is kept", "repeated row key")
        else:
            rows.append(_Row(source, key, sha))
        by_sha.setdefault(sha, source)
        if key is not None:
            by_key.setdefault(key, source)
    return rows


def _nul_column(row: SourceRow) -> str | None:
    """The first column whose value holds a NUL character, which no PostgreSQL text or JSON value can store."""
    return next((column for column, value in row.values.items() if isinstance(value, str) and "\x00" in value), None)


def _row_key(row: SourceRow, columns: list[str]) -> str | None:
    parts = [as_text(row.values.get(column)) for column in columns]
    return None if any(p is None for p in parts) else "|".join(parts)


def _not_stored(conn: Connection, rows: list[_Row], mapping: Mapping, report: Report) -> list[_Row]:
    """Rows not imported before from this source; earlier ones are unchanged, or rejected if their content changed."""
    stored = _records(conn, mapping.source, mapping.target, [row.key for row in rows])
    key_column = ", ".join(mapping.row_key) or "(row content)"
    fresh = []
    for row in rows:
        found = stored.get(row.key)
        if found is None:
            fresh.append(row)
        elif found[0] == row.sha:
            report.unchanged += 1
        else:
            report.reject(row.source, key_column, row.key,
                          f"was imported from {mapping.source} before (batch {found[1]}) with other values; the "
                          "stored record is kept: edit it in the register", "changed since an earlier import")
    return fresh


def _records(conn: Connection, source: str, entity: str, keys: list[str]) -> dict[str, tuple[str, int, int]]:
    """Stored import records of ``keys``: row key -> (row SHA-256, batch id, entity id)."""
    if not keys:
        return {}
    r = t.import_record
    query = select(r.c.row_key, r.c.row_sha256, r.c.batch_id, r.c.entity_id).where(
        r.c.source == source, r.c.entity == entity, r.c.row_key == any_(_array(keys)))
    return {key: (sha, batch, entity_id) for key, sha, batch, entity_id in conn.execute(query)}


def _array(values: list, item_type=Text):
    """A list as one array parameter: IN with 100,000 values would exceed the protocol's parameter limit."""
    return bindparam(None, list(values), type_=ARRAY(item_type))


def _from_error(report: Report, row: SourceRow, error: InvalidInput, origins: dict[str, str]) -> None:
    column = "/".join(origins.get(f, f) for f in error.field.split("/"))
    report.reject(row, column, error.received, error.message, _kind(error))


def _kind(error: InvalidInput) -> str:
    """The reason a rejection is counted under: what was expected, without the value received."""
    if error.field == "lat/lon":  # sites.records.check_in_kazakhstan, which hints at swapped axes
        return "latitude and longitude swapped" if "look swapped" in error.expected else "outside the register's extent"
    return f"{error.field}: expected {error.expected}"


# ---- sites ---------------------------------------------------------------------------------------------------------
def _plan_sites(conn: Connection, actor: Actor, rows: list[_Row], mapping: Mapping, extent: Extent,
                report: Report) -> list[_Row]:
    transform, rules = _transformer(mapping.crs), field_rules(mapping)
    repair = mapping.on_invalid_polygon == "repair"
    cleaned = [row for row in rows if _clean_site(row, rules, extent, transform, report, repair)]
    cleaned = _free_codes(conn, cleaned, report)
    _assign_units(conn, cleaned)
    allowed = [row for row in cleaned if _permitted(actor, row, row.cleaned["region_kato"], report)]
    return _check_duplicates(conn, allowed, mapping, report)


def _clean_site(row: _Row, rules: list[FieldRule], extent: Extent, transform, report: Report,
                repair: bool = False) -> bool:
    """Validate one row as a site: every field's problem is reported, then the record's own rules."""
    data, row.origins = apply_rules(rules, row.source.values)
    before = len(report.rejections)
    _place(row, data, transform, report, repair)
    for name, value in data.items():
        try:
            FIELDS_BY_NAME[name].clean(name, value)
        except InvalidInput as error:
            _from_error(report, row.source, error, row.origins)
    if len(report.rejections) == before:
        try:
            row.cleaned = validate_site(data, extent)
        except InvalidInput as error:
            _from_error(report, row.source, error, row.origins)
    return len(report.rejections) == before


def _place(row: _Row, data: dict[str, Any], transform, report: Report, repair: bool = False) -> None:
    """Set lat/lon (and footprint) from x/y or the geometry, explaining coordinates that cannot be degrees."""
    if "x" in data or "y" in data:
        _from_projected(row, data, transform, report)
    elif "lat" not in data and "lon" not in data and row.source.geometry is not None:
        _from_geometry(row, data, report, repair)
    elif "lat" not in data and "lon" not in data:
        report.reject(row.source, "(geometry)", None, "coordinates: expected lat/lon or x/y columns, or a point or "
                      "polygon geometry, received none", "no coordinates")
    _check_degrees(row, data, report)


def _from_projected(row: _Row, data: dict[str, Any], transform, report: Report) -> None:
    received = (data.pop("x", None), data.pop("y", None))
    x, y = _number(received[0]), _number(received[1])
    column = f"{row.origins.get('x', 'x')}/{row.origins.get('y', 'y')}"
    if x is None or y is None:
        report.reject(row.source, column, received, f"x/y: expected two numbers, received {received!r}",
                      "x/y: expected two numbers")
        return
    if transform is None and abs(x) <= 180 and abs(y) <= 90:
        data["lon"], data["lat"] = x, y  # x/y in degrees, as GIS exports of EPSG:4326 name them
    elif transform is None:
        report.reject(row.source, column, received, "x/y: expected a CRS for projected coordinates (these are metres, "
                      f"not degrees): give --crs, e.g. EPSG:32643, or \"crs\" in the mapping, received {received!r}",
                      "projected coordinates without a CRS")
    else:
        data["lon"], data["lat"] = transform(x, y)
    row.origins["lat"] = row.origins["lon"] = column


def _from_geometry(row: _Row, data: dict[str, Any], report: Report, repair: bool = False) -> None:
    geom = row.source.geometry
    row.origins.update(lat="(geometry)", lon="(geometry)", footprint="(geometry)")
    if geom.is_empty:
        report.reject(row.source, "(geometry)", None, "a point or polygon geometry, received an empty one",
                      "empty geometry")
    elif geom.geom_type in ("Point", "MultiPoint") and len(shapely.get_parts(geom)) == 1:
        point = shapely.get_parts(geom)[0]
        data["lon"], data["lat"] = point.x, point.y
    elif geom.geom_type in ("Polygon", "MultiPolygon"):
        _from_polygon(row, data, geom, report, repair)
    else:
        report.reject(row.source, "(geometry)", geom.geom_type, f"a point or polygon geometry, received a "
                      f"{geom.geom_type}", "not a point or polygon")


def _from_polygon(row: _Row, data: dict[str, Any], geom, report: Report, repair: bool) -> None:
    """A footprint and its representative point; an invalid outline is refused, or repaired and warned about when
    the mapping says ``"on_invalid_polygon": "repair"``."""
    if not geom.is_valid and not repair:
        report.reject(row.source, "(geometry)", explain_validity(geom), "a valid polygon: this outline crosses "
                      "itself; correct it, or import with \"on_invalid_polygon\": \"repair\" in the mapping to mend "
                      "it with make_valid", "invalid polygon")
        return
    fixed, repaired = clean_geometry(geom, "Polygon")
    if fixed is None:
        report.reject(row.source, "(geometry)", explain_validity(geom), "a polygon that can be repaired; nothing "
                      "polygonal is left after make_valid", "polygon cannot be repaired")
        return
    if repaired:
        report.warn(row.source, "(geometry)", explain_validity(geom), "invalid polygon repaired with make_valid "
                    f"({explain_validity(geom)}); check the outline", "polygon repaired")
    point = fixed.representative_point()
    data.update(footprint=fixed, lon=point.x, lat=point.y)


def _check_degrees(row: _Row, data: dict[str, Any], report: Report) -> None:
    """Explain values that are not degrees: projected metres without a CRS, or latitude and longitude swapped."""
    lat, lon = _number(data.get("lat")), _number(data.get("lon"))
    if lat is None or lon is None or (abs(lat) <= 90 and abs(lon) <= 180):
        return
    column = "/".join(dict.fromkeys((row.origins.get("lat", "lat"), row.origins.get("lon", "lon"))))
    received = (data.pop("lat"), data.pop("lon"))  # explained here; the field checks would only repeat it
    if abs(lat) > 1000 or abs(lon) > 1000:
        report.reject(row.source, column, received, "lat/lon: expected degrees; these look like metres of a projected "
                      "CRS given without one: map the columns as x and y and give the CRS (e.g. --crs EPSG:32643), "
                      f"received {received!r}", "projected coordinates without a CRS")
    else:
        report.reject(row.source, column, received, "lat/lon: expected a latitude within -90..90 and a longitude "
                      f"within -180..180; latitude and longitude look swapped, received {received!r}",
                      "latitude and longitude swapped")


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as Russian-locale spreadsheets write numbers
    try:
        return float(text)
    except ValueError:
        return None


def _transformer(crs: str | None):
    """A function (x, y) -> (lon, lat) from ``crs``, or None when no CRS is given."""
    if not crs:
        return None
    try:
        transformer = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    except pyproj.exceptions.CRSError as error:
        raise InvalidInput("crs", crs, f"a coordinate reference system such as EPSG:32643 ({error})") from error
    return transformer.transform


def _free_codes(conn: Connection, rows: list[_Row], report: Report) -> list[_Row]:
    """Rows giving a register code already stored (or given by an earlier row) are rejected."""
    given = [row.cleaned["code"] for row in rows if row.cleaned["code"]]
    if not given:
        return rows
    stored = set(conn.execute(select(t.site.c.code).where(t.site.c.code == any_(_array(given)))).scalars())
    kept, seen = [], set()
    for row in rows:
        code = row.cleaned["code"]
        if code and (code in stored or code in seen):
            report.reject(row.source, row.origins.get("code", "code"), code, "code: expected a code no other site "
                          "has (leave it empty to have one assigned)", "code already used")
            continue
        seen.add(code)
        kept.append(row)
    return kept


def _assign_units(conn: Connection, rows: list[_Row]) -> None:
    """Region and district from loaded boundaries for all rows in one query; points outside keep what was given."""
    if not rows:
        return
    params = {"lons": [r.cleaned["lon"] for r in rows], "lats": [r.cleaned["lat"] for r in rows]}
    for index, level, kato in conn.execute(_UNITS_SQL, params):
        rows[index - 1].cleaned["region_kato" if level == "region" else "district_kato"] = kato


def _permitted(actor: Actor, row: _Row, region_kato: str | None, report: Report) -> bool:
    try:
        require(actor, "edit_site", region_kato)
    except PermissionDenied as error:
        report.reject(row.source, row.origins.get("region_kato", "region_kato"), region_kato, error.message,
                      "not permitted in this region")
        return False
    return True


def _check_duplicates(conn: Connection, rows: list[_Row], mapping: Mapping, report: Report) -> list[_Row]:
    """Warn about (or reject) rows close to, or named like, a stored live site."""
    if not rows or not conn.execute(select(t.site.c.id).where(~t.site.c.archived).limit(1)).first():
        return rows  # an empty register has nothing to duplicate
    kept = []
    names = [row.cleaned["name_en"] or row.cleaned["name_ru"] or row.cleaned["name_kk"] for row in rows]
    everyone = find_duplicates_many(conn, [(r.cleaned["lat"], r.cleaned["lon"], n, None) for r, n in zip(rows, names)])
    for row, name, found in zip(rows, names, everyone):
        if found:
            column = row.origins.get("name_en") or row.origins.get("name_ru") or "name"
            which = "; ".join(f"{d['code']} {d['name']!r} ({d['reason']})" for d in found[:3])
            note = report.reject if mapping.on_duplicate == "reject" else report.warn
            note(row.source, column, name, f"may be a stored site: {which}", "possible duplicate of a stored site")
            if mapping.on_duplicate == "reject":
                continue
        kept.append(row)
    return kept


# ---- samples -------------------------------------------------------------------------------------------------------
def _plan_samples(conn: Connection, actor: Actor, rows: list[_Row], mapping: Mapping, report: Report) -> list[_Row]:
    catalogue, rules = _catalogue(conn), field_rules(mapping)
    sites = _sites_by_ref(conn, rows, mapping)
    allowed: dict[str | None, str | None] = {}
    return [row for row in rows if _clean_sample(row, mapping, rules, catalogue, sites, report)
            and _sample_permitted(actor, row, mapping, allowed, report)]


def _catalogue(conn: Connection) -> dict[str, str]:
    """Catalogue lookup: code, CAS number and names (lower case) -> contaminant code."""
    c = t.contaminant
    lookup: dict[str, str] = {}
    for row in conn.execute(select(c.c.code, c.c.cas, c.c.name_en, c.c.name_ru, c.c.name_kk)):
        for name in (row.name_kk, row.name_ru, row.name_en, row.cas, row.code):  # codes win over names
            if name:
                lookup[name.strip().lower()] = row.code
    return lookup


def _sites_by_ref(conn: Connection, rows: list[_Row], mapping: Mapping) -> dict[str, tuple[int, str | None]]:
    """Site reference (earlier row key, or register code) -> (site id, region KATO)."""
    refs = sorted({ref for row in rows if (ref := as_text(row.source.values.get(mapping.site_ref["column"])))})
    if not refs:
        return {}
    s, r = t.site, t.import_record
    if mapping.site_ref.get("source"):
        query = (select(r.c.row_key, s.c.id, s.c.region_kato).join(s, s.c.id == r.c.entity_id)
                 .where(r.c.source == mapping.site_ref["source"], r.c.entity == "site",
                        r.c.row_key == any_(_array(refs))))
    else:
        query = select(s.c.code, s.c.id, s.c.region_kato).where(s.c.code == any_(_array(refs)))
    return {ref: (site_id, region) for ref, site_id, region in conn.execute(query)}


def _clean_sample(row: _Row, mapping: Mapping, rules: list[FieldRule], catalogue: dict[str, str], sites: dict,
                  report: Report) -> bool:
    """Validate one row as a sample of a known site and catalogued contaminant, units normalised.

    Checks run in order (site, contaminant, value, then the sample's own rules); the first problem is reported.
    """
    data, row.origins = apply_rules(rules, row.source.values)
    if not _find_site(row, mapping, sites, report) or not _find_contaminant(row, data, catalogue, report):
        return False
    if not _reported(row, data, report):
        return False
    medium = data.get("medium")
    units = {k.lower(): v for k, v in mapping.units_by_medium.get(medium, {}).items()}
    if data.get("unit") and data["unit"].lower() in units:
        data["unit"] = units[data["unit"].lower()]
    try:
        row.cleaned = validate_sample(data)
    except InvalidInput as error:
        _from_error(report, row.source, error, row.origins)
        return False
    if row.source.geometry is not None and row.source.geometry.geom_type == "Point":
        row.cleaned["geom"] = f"SRID=4326;{row.source.geometry.wkt}"
    return True


def _find_site(row: _Row, mapping: Mapping, sites: dict, report: Report) -> bool:
    column = mapping.site_ref["column"]
    ref = as_text(row.source.values.get(column))
    found = sites.get(ref)
    if found is None:
        origin = mapping.site_ref.get("source")
        expected = f"the row key of a site imported from {origin}" if origin else "the code of a stored site"
        report.reject(row.source, column, ref, f"site: expected {expected}, received {ref!r}", "site not found")
        return False
    row.site_id, row.region = found
    return True


def _find_contaminant(row: _Row, data: dict[str, Any], catalogue: dict[str, str], report: Report) -> bool:
    given = data.get("contaminant")
    code = catalogue.get(given.lower()) if given else None
    if code is None:
        what = ("CAS " + given) if given and _CAS.match(given) else repr(given)
        reason = f"contaminant: not in the catalogue ({what})" if given else "contaminant: blank"
        kind = "contaminant not in the catalogue" if given else "contaminant blank"
        report.reject(row.source, row.origins.get("contaminant", "contaminant"), given, reason, kind)
        return False
    data["contaminant"] = code
    return True


def _reported(row: _Row, data: dict[str, Any], report: Report) -> bool:
    """Read a qualifier column as labs fill it ("<=", "ND", "н/о"); refuse a result with no value at all.

    "Not detected" without a value is handed to :func:`sites.samples.parse_reported` with the detection limit;
    a below-limit result without a stated limit takes its value as the limit, as "<0.05" does.
    """
    qualifier = _QUALIFIER_WORDS.get(data.get("qualifier") or "", data.get("qualifier"))
    if qualifier and qualifier.lower() in NOT_DETECTED:
        qualifier = None if data.get("value") is None else "<"
        data["value"] = data.get("value") or data["qualifier"]
    if qualifier == "<" and not data.get("detection_limit"):
        data["detection_limit"] = data.get("value")
    data["qualifier"] = qualifier
    if data.get("value") is None:
        report.reject(row.source, row.origins.get("value", "value"), None, "value: blank (no result reported)",
                      "value blank")
        return False
    return True


def _sample_permitted(actor: Actor, row: _Row, mapping: Mapping, allowed: dict, report: Report) -> bool:
    """``edit_site`` in the sample's site's region, decided once per region."""
    if row.region not in allowed:
        try:
            require(actor, "edit_site", row.region)
            allowed[row.region] = None
        except PermissionDenied as error:
            allowed[row.region] = error.message
    if allowed[row.region] is None:
        return True
    column = mapping.site_ref["column"]
    report.reject(row.source, column, row.source.values.get(column), allowed[row.region],
                  "not permitted in this region")
    return False


# ---- storing -------------------------------------------------------------------------------------------------------
def _store(conn: Connection, actor: Actor, table: Table, mapping: Mapping, report: Report, ready: list[_Row],
           valid_only: bool) -> None:
    report.batch_id = _insert_batch(conn, actor, table, mapping, report, valid_only)
    if mapping.target == "site":
        ids = _store_sites(conn, actor, ready)
        report.site_ids = ids
    else:
        ids = _store_samples(conn, actor, ready)
        report.site_ids = sorted({row.site_id for row in ready})
    records = ((report.batch_id, mapping.source, row.key, row.sha, mapping.target, new_id)
               for row, new_id in zip(ready, ids))
    _copy(conn, "import_record", ("batch_id", "source", "row_key", "row_sha256", "entity", "entity_id"), records)
    # Samples get this one audit row per batch (with counts) rather than 100,000 rows repeating the batch's
    # records; each sample stays traceable through import_record. Sites get an audit row each as well.
    write_audit(conn, actor, "insert", "import_batch", report.batch_id, None, _batch_summary(report))
    report.committed = True


def _insert_batch(conn: Connection, actor: Actor, table: Table, mapping: Mapping, report: Report,
                  valid_only: bool) -> int:
    values = dict(source=mapping.source, filename=table.name, file_sha256=table.sha256, target=mapping.target,
                  mode="valid" if valid_only else "all", mapping=json.loads(mapping.to_json()),
                  rows_read=report.rows_read, imported=report.imported, unchanged=report.unchanged,
                  rejected=report.rejected, report=report.to_json(limit=STORED_PROBLEMS), created_by=actor.name)
    return conn.execute(insert(t.import_batch).values(**values).returning(t.import_batch.c.id)).scalar_one()


def _batch_summary(report: Report) -> dict[str, Any]:
    keys = ("source", "file", "target", "rows_read", "imported", "unchanged", "rejected")
    summary = report.to_json(limit=0)
    return {key: summary[key] for key in keys}


def _store_sites(conn: Connection, actor: Actor, rows: list[_Row]) -> list[int]:
    """Insert the sites in one statement (codes allocated per region series) and audit each."""
    _allocate(conn, rows)
    statement = insert(t.site).returning(t.site.c.id, sort_by_parameter_order=True)
    ids = list(conn.execute(statement, [_site_values(row.cleaned) for row in rows]).scalars())
    stored = conn.execute(select(*SITE_COLUMNS).where(t.site.c.id == any_(_array(ids, t.Integer)))).mappings()
    by_id = {row["id"]: dict(row) for row in stored}
    for site_id in ids:
        write_audit(conn, actor, "insert", "site", site_id, None, by_id[site_id])
    return ids


def _allocate(conn: Connection, rows: list[_Row]) -> None:
    waiting: dict[str | None, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.cleaned["code"] is None:
            region = region_of(row.cleaned["region_kato"])
            waiting[region.kato if region else None].append(row)
    for region_kato, group in waiting.items():
        for row, code in zip(group, allocate_codes(conn, region_kato, len(group))):
            row.cleaned["code"] = code


def _site_values(cleaned: dict[str, Any]) -> dict[str, Any]:
    values = {name: cleaned[name] for name in STORED_FIELDS}
    footprint = cleaned["footprint"]
    values["geom"] = from_shape(Point(cleaned["lon"], cleaned["lat"]), srid=4326)
    values["footprint"] = None if footprint is None else from_shape(footprint, srid=4326)
    values["geom_sha256"] = geometry_sha256(cleaned["lat"], cleaned["lon"], footprint)
    return values


SAMPLE_COLUMNS = ("id", "site_id", "contaminant", "medium", "value", "unit", "qualifier", "detection_limit", "depth_m",
                  "sampled_on", "sampled_year", "laboratory", "source", "note", "value_canonical", "unit_canonical",
                  "geom", "created_by")


def _store_samples(conn: Connection, actor: Actor, rows: list[_Row]) -> list[int]:
    """COPY the samples in (ids drawn from the sequence first, so each import record can name its sample)."""
    ids = list(conn.execute(text("SELECT nextval(pg_get_serial_sequence('sample', 'id')) FROM generate_series(1, :n)"),
                            {"n": len(rows)}).scalars())
    extra = {"created_by": actor.name}
    records = (_sample_tuple(new_id, row, extra) for new_id, row in zip(ids, rows))
    _copy(conn, "sample", SAMPLE_COLUMNS, records)
    return ids


def _sample_tuple(new_id: int, row: _Row, extra: dict[str, Any]) -> tuple:
    values = dict(row.cleaned, id=new_id, site_id=row.site_id, **extra)
    return tuple(values.get(column) for column in SAMPLE_COLUMNS)


def _copy(conn: Connection, table: str, columns: Iterable[str], rows: Iterable[tuple]) -> None:
    """COPY rows into ``table`` within the caller's transaction: 100,000 rows in a fraction of a second."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _rescore(engine: Engine, site_ids: list[int]) -> None:
    """Rescore the affected sites once, with the latest run's configuration (nothing if never scored)."""
    from gis.scoring import rescore_changed  # scoring pulls in exposure queries; only a commit needs them

    if site_ids:
        rescore_changed(engine, site_ids)
