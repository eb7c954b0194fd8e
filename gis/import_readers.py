"""Read the tables users bring for bulk import (CSV, XLSX, JSON records, GeoJSON, GeoPackage, Shapefile, KML/KMZ, zips).

Every reader returns a :class:`Table`: its columns, its rows (raw values, each with its place in the file) and, for
geometry layers, each row's geometry in EPSG:4326. Readers refuse whole files (too big, truncated, unsafe archive
paths, mixed encodings, no CRS) and never judge single rows: that is :mod:`gis.site_import`'s job.

Safety: a file over ``max_bytes`` is refused before it is read; a zip (also KMZ) is checked whole before anything is
extracted (every entry's path must stay inside the archive's folder, the unpacked total must fit ``max_bytes``) and
extracted into a temporary folder that is removed however reading ends.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
import pyogrio
import shapely

from sites.errors import InvalidInput

DEFAULT_MAX_BYTES = 200_000_000  # 200 MB
DELIMITERS = (",", ";", "\t", "|")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
GEO_SUFFIXES = (".geojson", ".gpkg", ".shp", ".kml")
TABLE_SUFFIXES = TEXT_SUFFIXES + (".xlsx", ".json") + GEO_SUFFIXES
FORMATS = "CSV, XLSX, JSON records, GeoJSON, GeoPackage, Shapefile (zipped), KML or KMZ, or a zip of them"
# Formats whose coordinates are WGS84 longitude/latitude by definition, with or without a declared CRS.
WGS84_DRIVERS = ("GeoJSON", "GeoJSONSeq", "KML", "LIBKML")
NO_CRS = "projected or unknown CRS: add the .prj"
_BOM = b"\xef\xbb\xbf"


@dataclass
class SourceRow:
    """One row of the input: its number (from 1, across all files of an archive), where it is, its values."""

    number: int
    where: str
    values: dict[str, Any]
    geometry: shapely.Geometry | None = None
    error: str | None = None  # a row the reader could not split into the header's columns


@dataclass
class Table:
    """What was read from one file: columns in file order, rows, and notes on how it was read."""

    name: str
    sha256: str
    columns: list[str]
    rows: list[SourceRow]
    notes: list[str] = field(default_factory=list)
    has_geometry: bool = False


def read_table(path: str | Path, *, sheet: str | None = None, layer: str | None = None,
               records_path: str | None = None, encoding: str | None = None, delimiter: str | None = None,
               max_bytes: int = DEFAULT_MAX_BYTES) -> Table:
    """Read a table for import.

    Parameters
    ----------
    path : str or Path
        CSV/TSV/TXT, XLSX, JSON (GeoJSON or records), GeoPackage, Shapefile (with its .prj beside it), KML, KMZ, or a
        zip holding any of these (several CSVs with one header are read as one table; ``__MACOSX`` entries skipped).
    sheet : str, optional
        XLSX sheet (default: the first).
    layer : str, optional
        Layer of a GeoPackage or KML holding several, or the Shapefile of a zip holding several.
    records_path : str, optional
        Where a JSON file keeps its list of records, dotted (``"rows"``, ``"data.items"``); found when unique.
    encoding, delimiter : str, optional
        Override what is detected for text files (UTF-8 with or without BOM, Windows-1251; , ; tab |).
    max_bytes : int
        Files (and zip contents once unpacked) larger than this are refused.

    Returns
    -------
    Table

    Raises
    ------
    InvalidInput
        For a missing, oversized, unreadable, unsafe or mixed-encoding file, naming what was received.
    """
    path = Path(path)
    _check_size(path, max_bytes)
    digest = file_sha256(path)
    options = dict(sheet=sheet, layer=layer, records_path=records_path, encoding=encoding, delimiter=delimiter,
                   max_bytes=max_bytes)
    if path.suffix.lower() in (".zip", ".kmz"):
        table = _read_archive(path, max_bytes, options)
    else:
        table = _read_file(path, path.name, options)
    table.name, table.sha256 = path.name, digest
    return table


# ---- whole-file checks ---------------------------------------------------------------------------------------------
def _check_size(path: Path, max_bytes: int) -> None:
    if not path.is_file():
        raise InvalidInput("file", str(path), "an existing file: " + FORMATS)
    size = path.stat().st_size
    if size > max_bytes:
        raise InvalidInput("file", f"{path.name} of {size:,} bytes", f"a file of at most {max_bytes:,} bytes")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks (exports with photos run to hundreds of megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(2**20):
            digest.update(block)
    return digest.hexdigest()


def _read_file(path: Path, label: str, options: dict) -> Table:
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _read_csv([(path, label)], options["encoding"], options["delimiter"])
    if suffix == ".xlsx":
        return _read_xlsx(path, label, options["sheet"], options.get("max_bytes", DEFAULT_MAX_BYTES))
    if suffix in (".json", ".geojson"):
        return _read_json(path, label, options)
    if suffix in GEO_SUFFIXES:
        return _read_geo(path, label, options["layer"])
    raise InvalidInput("file", label, FORMATS)


# ---- archives ------------------------------------------------------------------------------------------------------
def _read_archive(path: Path, max_bytes: int, options: dict) -> Table:
    """Check every entry, extract the wanted ones into a temporary folder, read them, remove the folder."""
    with open_zip(path) as archive:
        entries = safe_entries(archive, path.name)
        unpacked = sum(info.file_size for info in entries)
        if unpacked > max_bytes:
            raise InvalidInput("file", f"{path.name} unpacking to {unpacked:,} bytes",
                               f"an archive whose contents total at most {max_bytes:,} bytes")
        with tempfile.TemporaryDirectory(prefix="sites-import-") as folder:
            extracted = [extract_entry(archive, info, Path(folder), path.name) for info in entries]
            return _read_extracted(extracted, path.name, options)


def _check_unpacked(path: Path, label: str, max_bytes: int) -> None:
    """An XLSX is a zip of XML: a small file can unpack to gigabytes (openpyxl holds the shared strings in
    memory), so its parts are measured as a zip's are before openpyxl opens it."""
    with open_zip(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > max_bytes:
        raise InvalidInput("file", f"{label} unpacking to {unpacked:,} bytes",
                           f"a workbook whose contents total at most {max_bytes:,} bytes")


def open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise _corrupt(path.name, error) from error


def _corrupt(name: str, error: Exception) -> InvalidInput:
    return InvalidInput("file", f"{name} ({error})", "a complete zip archive; this one is truncated or corrupt")


def safe_entries(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    """Refuse the archive if any entry's path leaves its folder; return the entries worth extracting."""
    for info in archive.infolist():
        if not _inside(info.filename):
            raise InvalidInput("file", f"entry {info.filename!r} of {name}",
                               "archive entries whose paths stay inside the archive (no '..', no absolute paths)")
    return [info for info in archive.infolist() if not info.is_dir() and not _skipped(info.filename)]


def _inside(entry: str) -> bool:
    text = entry.replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        return False
    return ".." not in PurePosixPath(text).parts


def _skipped(entry: str) -> bool:
    """macOS resource forks and hidden files travel in zips but hold no data."""
    parts = PurePosixPath(entry.replace("\\", "/")).parts
    return "__MACOSX" in parts or parts[-1].startswith(".")


def extract_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, folder: Path, name: str) -> tuple[Path, str]:
    """Copy one entry out (so a bad CRC or a cut-off stream surfaces here), keeping its relative path."""
    relative = info.filename.replace("\\", "/")
    target = folder.joinpath(*PurePosixPath(relative).parts)
    if not target.resolve().is_relative_to(folder.resolve()):  # already refused above; belt and braces
        raise InvalidInput("file", relative, "archive entries whose paths stay inside the archive")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with archive.open(info) as source, target.open("wb") as sink:
            shutil.copyfileobj(source, sink)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise _corrupt(f"{name}: {relative}", error) from error
    return target, relative


def _read_extracted(files: list[tuple[Path, str]], archive: str, options: dict) -> Table:
    """Read what an archive held: a Shapefile or one geo file, or else every CSV (same header) as one table."""
    shapefiles = [(p, n) for p, n in files if p.suffix.lower() == ".shp"]
    if shapefiles:
        path, label = _pick(shapefiles, options["layer"], archive)
        return _read_geo(path, label, None)
    readable = [(p, n) for p, n in files if p.suffix.lower() in TABLE_SUFFIXES]
    texts = sorted(((p, n) for p, n in readable if p.suffix.lower() in TEXT_SUFFIXES), key=lambda f: _natural(f[1]))
    if texts and len(texts) == len(readable):
        return _read_csv(texts, options["encoding"], options["delimiter"])
    if len(readable) == 1:
        return _read_file(readable[0][0], readable[0][1], options)
    found = ", ".join(n for _, n in files) or "nothing"
    raise InvalidInput("file", f"{archive} holding {found}", "an archive holding one table, a Shapefile, or CSVs")


def _pick(files: list[tuple[Path, str]], wanted: str | None, archive: str) -> tuple[Path, str]:
    if len(files) == 1:
        return files[0]
    for path, label in files:
        if wanted in (label, path.stem, path.name):
            return path, label
    raise InvalidInput("layer", wanted, f"one of the Shapefiles in {archive}: " + ", ".join(n for _, n in files))


def _natural(name: str) -> list:
    """Sort key putting region2 before region10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


# ---- CSV -----------------------------------------------------------------------------------------------------------
def _read_csv(files: list[tuple[Path, str]], encoding: str | None, delimiter: str | None) -> Table:
    """Read one or more CSV files with one header into a table; rows are numbered on across files."""
    table = Table("", "", [], [])
    for path, label in files:
        text, used = decode(path.read_bytes(), label, encoding)
        sep = delimiter or sniff_delimiter(text)
        header, rows = _csv_rows(text, sep, label if len(files) > 1 else None, len(table.rows))
        if table.columns and header != table.columns:
            raise InvalidInput("file", f"{label} with columns {header}",
                               f"the columns of {files[0][1]}: {table.columns}")
        table.columns = header
        table.rows.extend(rows)
        table.notes.append(f"{label}: {used}, delimiter {_delimiter_name(sep)}, {len(rows)} rows")
    return table


def decode(data: bytes, label: str, encoding: str | None = None) -> tuple[str, str]:
    """Text of a file and the name of its encoding: UTF-8 (with or without BOM) or Windows-1251.

    A file mixing both is refused naming the first line in the other encoding.
    """
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as error:
            raise InvalidInput("encoding", encoding, f"an encoding that reads {label} ({error})") from error
    bom = data.startswith(_BOM)
    body = data[len(_BOM):] if bom else data
    try:
        return body.decode("utf-8"), "UTF-8 with BOM" if bom else "UTF-8"
    except UnicodeDecodeError:
        pass
    _refuse_mixed(body, label, bom)
    try:
        return body.decode("cp1251"), "Windows-1251"
    except UnicodeDecodeError as error:
        raise InvalidInput("encoding", f"{label}: byte {body[error.start]:#x} at offset {error.start}",
                           "text in UTF-8 or Windows-1251") from error


def _refuse_mixed(body: bytes, label: str, bom: bool) -> None:
    """Refuse a file whose non-ASCII lines are partly UTF-8 and partly Windows-1251.

    Lines are split on the newline byte, which never occurs inside a UTF-8 character, so each line can be
    judged alone; the first non-ASCII line (or a byte-order mark) sets what the file is.
    """
    first = ("UTF-8", "its byte-order mark") if bom else None
    for number, line in enumerate(body.split(b"\n"), start=1):
        if line.isascii():
            continue
        kind = "UTF-8" if _is_utf8(line) else "Windows-1251"
        if first is None:
            first = (kind, f"line {number}")
        elif kind != first[0]:
            raise InvalidInput("encoding", f"{kind} text on line {number} of {label}",
                               f"one encoding throughout the file ({first[0]} from {first[1]}); re-save it as UTF-8")


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the header and the first rows into the same, largest number of
    columns; a comma when none splits anything (a one-column file)."""
    sample = text[:65536].splitlines()[:50]
    best, best_width = ",", 1
    for candidate in DELIMITERS:
        widths = {len(row) for row in csv.reader(sample, delimiter=candidate) if row}
        width = widths.pop() if len(widths) == 1 else 0
        if width > best_width:
            best, best_width = candidate, width
    if best_width == 1:  # ragged rows: fall back to the delimiter splitting the header most
        header = sample[0] if sample else ""
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(DELIMITERS, key=lambda d: counts[d]) if any(counts.values()) else ","
    return best


def _delimiter_name(sep: str) -> str:
    return {"\t": "tab"}.get(sep, repr(sep))


def _csv_rows(text: str, sep: str, label: str | None, offset: int) -> tuple[list[str], list[SourceRow]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        return _split_csv(reader, label, offset)
    except csv.Error as error:  # such as a value longer than the csv module's limit of 131,072 characters
        raise InvalidInput("file", f"{label or 'the file'} at line {reader.line_num}",
                           f"CSV that splits into values ({error})") from error


def _split_csv(reader, label: str | None, offset: int) -> tuple[list[str], list[SourceRow]]:
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise InvalidInput("file", label or "the file", "a header row naming the columns")
    header = _unique_headers(header)
    rows, start = [], reader.line_num + 1
    for record in reader:
        line, start = start, reader.line_num + 1
        if not any(value.strip() for value in record):
            continue  # blank lines separate nothing
        where = f"{label} line {line}" if label else f"line {line}"
        rows.append(_csv_row(offset + len(rows) + 1, where, header, record))
    return header, rows


def _csv_row(number: int, where: str, header: list[str], record: list[str]) -> SourceRow:
    values = {name: (record[i] if i < len(record) else None) for i, name in enumerate(header)}
    extra = record[len(header):]
    error = None
    if any(value.strip() for value in extra):
        error = f"{len(record)} values for {len(header)} columns (a delimiter inside an unquoted value?)"
    return SourceRow(number, where, values, error=error)


def _unique_headers(header: list[str]) -> list[str]:
    """Header names stripped, blanks named by position, repeats numbered so no value is lost."""
    seen: dict[str, int] = {}
    names = []
    for position, raw in enumerate(header, start=1):
        name = raw.strip() or f"column {position}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


# ---- XLSX ----------------------------------------------------------------------------------------------------------
def _read_xlsx(path: Path, label: str, sheet: str | None, max_bytes: int = DEFAULT_MAX_BYTES) -> Table:
    import openpyxl  # only XLSX imports need it

    _check_unpacked(path, label, max_bytes)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise InvalidInput("file", f"{label} ({error})", "a readable XLSX workbook") from error
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InvalidInput("sheet", sheet, "one of the workbook's sheets: " + ", ".join(book.sheetnames))
        worksheet = book[sheet] if sheet else book.worksheets[0]
        return _sheet_table(worksheet)
    finally:
        book.close()


def _sheet_table(worksheet) -> Table:
    rows_iter = enumerate(worksheet.iter_rows(values_only=True), start=1)
    header = None
    table = Table("", "", [], [], notes=[f"sheet {worksheet.title!r}"])
    for line, cells in rows_iter:
        if not any(_present(c) for c in cells):
            continue
        if header is None:
            header = _unique_headers(["" if c is None else str(c) for c in cells])
            table.columns = header
            continue
        table.rows.append(_sheet_row(len(table.rows) + 1, f"sheet {worksheet.title!r} row {line}", header, cells))
    if header is None:
        raise InvalidInput("sheet", worksheet.title, "a sheet with a header row naming the columns")
    return table


def _sheet_row(number: int, where: str, header: list[str], cells: tuple) -> SourceRow:
    values = {name: (_cell(cells[i]) if i < len(cells) else None) for i, name in enumerate(header)}
    extra = [c for c in cells[len(header):] if _present(c)]
    error = f"{len(header) + len(extra)} values for {len(header)} named columns" if extra else None
    return SourceRow(number, where, values, error=error)


def _present(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _cell(value: Any) -> Any:
    """Spreadsheet cells as plain values: dates as ISO text, whole-number floats as integers."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ---- JSON ----------------------------------------------------------------------------------------------------------
def _read_json(path: Path, label: str, options: dict) -> Table:
    text, _ = decode(path.read_bytes(), label, options["encoding"])
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:  # bad syntax, a number over 4,300 digits, nesting too deep
        raise InvalidInput("file", f"{label} ({error})", "valid JSON") from error
    if isinstance(document, dict) and document.get("type") in ("FeatureCollection", "Feature"):
        return _read_geo(path, label, options["layer"])
    records, where = _records(document, options["records_path"], label)
    table = Table("", "", _record_columns(records), [], notes=[f"records at {where!r}" if where else "records"])
    for number, record in enumerate(records, start=1):
        values = {k: _json_value(record.get(k)) for k in table.columns}
        table.rows.append(SourceRow(number, f"record {number}", values))
    return table


def _records(document: Any, records_path: str | None, label: str) -> tuple[list[dict], str | None]:
    """The list of records: at ``records_path``, the document itself, or its only list of objects."""
    if records_path:
        found = document
        for part in records_path.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        if not _is_records(found):
            raise InvalidInput("records_path", records_path, f"the path of a list of objects in {label}")
        return found, records_path
    if _is_records(document):
        return document, None
    lists = [k for k, v in document.items() if _is_records(v)] if isinstance(document, dict) else []
    if len(lists) != 1:
        raise InvalidInput("records_path", None, f"the key of {label}'s list of records (found: {lists or 'none'})")
    return document[lists[0]], lists[0]


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _record_columns(records: list[dict]) -> list[str]:
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(str(k) for k in record))
    return list(columns)


def _json_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


# ---- GDAL formats --------------------------------------------------------------------------------------------------
def _read_geo(path: Path, label: str, layer: str | None) -> Table:
    """A vector layer read with pyogrio: attributes as columns, geometries reprojected to EPSG:4326."""
    name = _geo_layer(path, label, layer)
    try:
        driver = pyogrio.read_info(path, layer=name)["driver"]
        frame = pyogrio.read_dataframe(path, layer=name)
    # pyogrio raises ValueError on some fields it cannot make a column of, such as a GeoJSON list of booleans.
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as error:
        raise InvalidInput("file", f"{label} ({error})", FORMATS) from error
    frame = _to_wgs84(frame, label, driver)
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    table = Table("", "", columns, [], notes=[f"layer {name!r} ({driver})"], has_geometry=True)
    attributes = frame[columns].to_dict("records") if columns else [{} for _ in range(len(frame))]
    for number, (values, geom) in enumerate(zip(attributes, frame.geometry.array), start=1):
        clean = {k: _geo_value(v) for k, v in values.items()}
        table.rows.append(SourceRow(number, f"feature {number}", clean, geom))
    return table


def _geo_layer(path: Path, label: str, layer: str | None) -> str:
    try:
        names = [str(n) for n, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as error:
        raise InvalidInput("file", f"{label} ({error})", FORMATS) from error
    if layer in names or (len(names) == 1 and layer is None):
        return layer or names[0]
    if not names:
        raise InvalidInput("file", label, "a file holding a vector layer")
    raise InvalidInput("layer", layer, f"one of the layers of {label}: " + ", ".join(names))


def _to_wgs84(frame, label: str, driver: str):
    if frame.crs is None:
        if driver not in WGS84_DRIVERS:
            raise InvalidInput("crs", f"{label} without a coordinate reference system", NO_CRS)
        return frame.set_crs(4326)
    return frame if frame.crs.equals("EPSG:4326") else frame.to_crs(4326)


def _geo_value(value: Any) -> Any:
    """Attribute values as plain Python: missing as None, timestamps as ISO text, lists as JSON text."""
    if getattr(value, "ndim", 0) > 0:  # GDAL list fields (a GeoJSON array property) arrive as numpy arrays
        value = value.tolist()
    if isinstance(value, (list, tuple)):  # as the JSON records reader keeps them: JSON text
        return json.dumps(value, ensure_ascii=False, default=str)
    if value is None or pd.isna(value):
        return None
    if hasattr(value, "isoformat"):
        return _cell(value.to_pydatetime() if hasattr(value, "to_pydatetime") else value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
