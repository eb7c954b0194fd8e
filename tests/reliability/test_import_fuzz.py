"""Property-based fuzzing of bulk import: any file, row or mapping is imported, or refused with a reason.

The rule under test (``gis/site_import.py``'s docstring): a file refused as a whole raises the register's own
:class:`sites.errors.InvalidInput` naming what was expected and received; otherwise every row ends up imported,
unchanged or rejected with its column and reason, and ``rows_read == imported + unchanged + rejected``. Nothing may
escape as a bare ValueError, KeyError, UnicodeDecodeError, csv.Error or a database error.

- Readers (``gis.import_readers.read_table``): arbitrary bytes under every text suffix, and plausible CSV, JSON
  records and GeoJSON built from the formats' own pieces (quotes, delimiters, BOMs, Cyrillic, nested values).
- Rows (``gis.site_import.commit`` on a real PostGIS): sites and samples whose cells mix valid values, Russian
  synonyms and junk (huge numbers, NaN, NUL characters, over-long text, swapped or projected coordinates), stored
  with ``valid_only`` or all or nothing. Commits, not previews: only a commit reaches the database's own checks.
- Mappings (``gis.import_mapping.mapping_from_dict`` then an import): JSON objects with the mapping's keys and
  values of any JSON type.

Example counts keep each property to a few seconds (about 20 s for the module); hypothesis prints only on
failure. Each bug the fuzzing found has a plain regression test here as well.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import tempfile
import warnings
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gis import tables as t
from gis.db import make_engine
from gis.import_mapping import KEYS, mapping_from_dict
from gis.import_readers import SourceRow, Table, read_table
from gis.reference import load_reference
from gis.services import Register
from gis.site_import import commit, effective_mapping, import_file
from sites import vocab
from sites.errors import InvalidInput
from sites.records import KAZAKHSTAN_EXTENT, WORLD_EXTENT
from tests.conftest import app_url, drop_database, new_database
from tests.gis.factories import site_data


def fuzz(examples: int) -> settings:
    """Settings of one property: no deadline (the database's pace varies); one database serves many examples
    (a fixture per example would cost a second each), hence the function-scoped fixture health check."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])


SOURCES = count(1)  # a new import source per example, so examples never see each other's rows as re-imports


def check_explained(error: InvalidInput) -> None:
    assert error.field and error.expected and "expected" in error.message and "received" in error.message


def read_or_explain(path: Path, **options) -> Table | None:
    """Read ``path``; a refusal must be the register's own error. GDAL's chatter on junk is not a result."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL on junk: "unsupported geometry type"
            warnings.simplefilter("ignore", UserWarning)  # pyogrio: "could not parse column as JSON"
            table = read_table(path, **options)
    except InvalidInput as error:
        check_explained(error)
        return None
    assert [row.number for row in table.rows] == list(range(1, len(table.rows) + 1))
    assert all(set(row.values) == set(table.columns) for row in table.rows)
    return table


# ---- readers: bytes and plausible files ---------------------------------------------------------------------------
TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".geojson")
CELL = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", " ", "52,29", "76.97", "\"", "\"\"", "a,b", "a;b", "\t", "\n", "\r\n", "Павлодар", "Қарағанды", "н/о",
     "x" * 140_000, "\x00"])
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | \
    st.sampled_from([1e308, -(2 ** 70), "52,3", "Павлодар"])
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=10)
GEOMETRY = st.none() | st.fixed_dictionaries({
    "type": st.sampled_from(["Point", "MultiPoint", "Polygon", "LineString", "GeometryCollection", "Bogus"]),
    "coordinates": JSON_VALUES | st.lists(st.floats(min_value=-200, max_value=200), max_size=3)})
FEATURE = st.fixed_dictionaries({"type": st.just("Feature")},
                                optional={"geometry": GEOMETRY, "properties": st.dictionaries(
                                    st.sampled_from(["name", "lat", "tags", "Название", ""]), JSON_VALUES,
                                    max_size=4)})
GEOJSON = st.fixed_dictionaries({"type": st.sampled_from(["FeatureCollection", "Feature"])},
                                optional={"features": st.lists(FEATURE, max_size=4), "geometry": GEOMETRY,
                                          "properties": JSON_VALUES, "crs": JSON_VALUES})
RECORDS = st.lists(st.dictionaries(st.sampled_from(["name", "lat", "lon", "region", "x", "note"]), JSON_VALUES,
                                   max_size=5), max_size=5)


@st.composite
def csv_files(draw) -> bytes:
    """A CSV as spreadsheets write them: any delimiter, quoting, line ending, BOM and encoding, rows ragged."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=5), min_size=0, max_size=6))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
               quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))).writerows(rows)
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]))
    data = text.encode(encoding, errors="replace")
    return data + draw(st.binary(max_size=4))  # sometimes a torn last character


@fuzz(400)
@given(data=st.binary(max_size=400), suffix=st.sampled_from(TEXT_SUFFIXES + (".zip", ".kml", ".xlsx")))
def test_any_bytes_are_read_or_refused_with_a_reason(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "upload" + suffix)
        path.write_bytes(data)
        read_or_explain(path)


@fuzz(300)
@given(data=csv_files(), suffix=st.sampled_from([".csv", ".txt", ".tsv"]),
       delimiter=st.sampled_from([None, None, ",", ";"]))
def test_plausible_csv_is_read_or_refused_with_a_reason(data, suffix, delimiter):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "inventory" + suffix)
        path.write_bytes(data)
        read_or_explain(path, delimiter=delimiter)


@fuzz(300)
@given(document=st.one_of(GEOJSON, RECORDS, JSON_VALUES, st.dictionaries(st.sampled_from(["rows", "data"]), RECORDS)),
       suffix=st.sampled_from([".json", ".geojson"]))
def test_plausible_json_and_geojson_are_read_or_refused_with_a_reason(document, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "inventory" + suffix)
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        read_or_explain(path)


@pytest.mark.parametrize("name, content", [
    ("numbers.json", '[{"name": "x", "lat": ' + "1" * 5000 + "}]"),  # was ValueError: int over 4,300 digits
    ("nested.json", "[" * 100_000 + "]" * 100_000),  # was RecursionError
    ("long.csv", 'name,lat\n"' + "x" * 200_000 + '",1\n'),  # was csv.Error: field larger than field limit
])
def test_files_python_cannot_parse_are_refused_with_a_reason(tmp_path, name, content):
    """Regression: fuzzing found these escaped the readers as ValueError, RecursionError and csv.Error."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        read_table(path)
    check_explained(refused.value)


def test_geojson_list_of_booleans_is_refused_with_a_reason(tmp_path):
    """Regression: pyogrio raises ValueError on a list-of-booleans property; it escaped the reader."""
    path = tmp_path / "flags.geojson"
    feature = {"type": "Feature", "geometry": None, "properties": {"flags": [False, False]}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        read_table(path)
    check_explained(refused.value)


def test_geojson_array_properties_are_read_as_json_text(tmp_path):
    """Regression: a GeoJSON property holding a list (as OSM tags often do) raised ValueError from pandas."""
    path = tmp_path / "tags.geojson"
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [76.97, 52.29]},
                 "properties": {"name": name, "tags": tags}} for name, tags in (("a", ["x", "y"]), ("b", []))]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    table = read_table(path)
    assert [row.values["tags"] for row in table.rows] == ['["x", "y"]', "[]"]


# ---- rows: sites and samples committed to a real register ----------------------------------------------------------
@pytest.fixture(scope="module")
def register_url(template_database):
    """One register for all row examples: the catalogue (for samples) and two stored sites (for site_ref)."""
    name = new_database(template_database)
    url = app_url(name)
    engine = make_engine(url)
    register = Register(engine)
    admin = register.actor()
    load_reference(engine, admin)
    for number in (1, 2):
        register.create_site(admin, site_data(name_en=f"stored site {number}", lat=52.0 + number, lon=77.0))
    engine.dispose()
    yield url
    drop_database(name)


@pytest.fixture(scope="module")
def fuzz_engine(register_url):
    engine = make_engine(register_url)
    yield engine
    engine.dispose()


def decimal(low: float, high: float) -> st.SearchStrategy:
    """A number as spreadsheets write it: a decimal point, or the Russian-locale decimal comma."""
    return st.tuples(st.floats(min_value=low, max_value=high), st.sampled_from([".", ","])).map(
        lambda pair: f"{pair[0]:.5f}".replace(".", pair[1]))


# Junk any cell may hold instead of its value: numbers no float or int can hold, NaN, NUL characters, text longer
# than any field allows, words where numbers belong, arbitrary text, nothing; and the typed values JSON records,
# spreadsheets and GIS layers give (floats including NaN and infinities, integers, booleans).
JUNK = st.one_of(st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e400", "-0", "9" * 400, "1" * 5000,
                                  "\x00", "a\x00b", "x" * 5000, "null", "—", "52°17'N", "true", "да", "0x1F",
                                  "1_000", "١٢", "-1", "1e-400"]),
                 st.text(max_size=30), st.floats().map(repr), st.none(), st.floats(), st.integers(), st.booleans())
# Each column: a strategy of valid values, and wrong values of its own kind (junk of any kind is added to them).
SITE_COLUMNS = {
    "name": (st.text(min_size=1, max_size=60).filter(str.strip), st.sampled_from(["x" * 201, " "])),
    "Название": (st.sampled_from(["Хвостохранилище", "Свалка ТБО", "Склад ядохимикатов"]), st.just("я" * 201)),
    "lat": (decimal(40.6, 55.4), st.sampled_from(["76.97", "91", "-91", "5795000", "52 17 13"])),
    "lon": (decimal(46.5, 87.3), st.sampled_from(["52.29", "181", "13512000", "7"])),
    "region": (st.sampled_from(["550000000", "KZ-PAV", "Павлодарская область", "Karagandy", "ABY", "Алматы"]),
               st.sampled_from(["999999999", "55", "KZ-XYZ"])),
    "activity": (st.sampled_from(vocab.ACTIVITY + ("свалка", "химический завод", "Полигон ТБО")), st.just("brewery")),
    "precision": (st.sampled_from(vocab.LOCATION_PRECISION + ("точно", "приблизительно")), st.just("roughly")),
    "stage": (st.sampled_from(vocab.STAGE + ("закрыт", "обследован")), st.just("rubbish")),
    "area ha": (decimal(0, 1e6), st.sampled_from(["-1", "-0,5"])),
    "operating from": (st.integers(1800, 1950).map(str), st.sampled_from(["1799", "2999", "1950.5", "1960"])),
    "operating to": (st.integers(1955, 2020).map(str), st.sampled_from(["1700", "1940"])),
    "code": (st.integers(5000, 8999).map("KZ-PAV-{:04d}".format), st.sampled_from(["kz-pav-1", "KZ-PAV-12345"])),
    "deadline": (st.dates().map(str), st.sampled_from(["2030-02-30", "01.01.2030"])),
    "confidential": (st.sampled_from(["true", "false", "1", "0", "yes", "no"]), st.just("maybe")),
    "description": (st.text(max_size=200), st.just("x" * 4001)),
}
MEDIUM_UNITS = [("soil", "mg/kg"), ("soil", "мг/кг"), ("sediment", "ppm"), ("groundwater", "ug/L"),
                ("почва", "%"), ("waste", "Bq/kg"), ("air", "mg/m3"), ("грунтовые воды", "мг/л")]
SAMPLE_COLUMNS = {
    "site": (st.sampled_from(["KZ-PAV-0001", "KZ-PAV-0002"]), st.just("KZ-PAV-0404")),
    "contaminant": (st.sampled_from(["hg", "ртуть", "mercury", "7439-97-6", "HG", "pb", "cd"]),
                    st.sampled_from(["71-43-2", "unobtainium"])),
    "value": (st.one_of(decimal(0, 1e6), st.sampled_from(["<0.05", "< 0,05", "> 100", "≤0.1", "1e3", "н/о", "ND"])),
              st.sampled_from(["-1", "1e999", "<", "abc"])),
    "medium": None, "unit": None,  # drawn together from MEDIUM_UNITS, so that they fit each other
    "qualifier": (st.sampled_from(["<", ">", "=", "<=", "ND", "н/о"]), st.just("~")),
    "detection limit": (decimal(0, 10), st.just("-0.01")),
    "depth": (decimal(0, 100), st.just("-3")),
    "date": (st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2024, 12, 31)).map(str),
             st.sampled_from(["2004-13-01", "01.06.2004"])),
    "year": (st.integers(1950, 2024).map(str), st.sampled_from(["1899", "3000", "２００４"])),
    "laboratory": (st.text(max_size=40), st.nothing()),
    "note": (st.text(max_size=100), st.nothing()),
}


@st.composite
def tables(draw, columns: dict, required: tuple[str, ...]) -> Table:
    """A table of valid rows, some of whose cells (none, one or two per row) are then spoilt; some rows repeat.

    Valid rows are stored, so every example reaches the database; a spoilt cell must be rejected with its column.
    """
    optional = [name for name in columns if name not in required]
    chosen = list(required) + draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional)))
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        values = {name: draw(columns[name][0]) for name in chosen if columns[name]}
        if "medium" in chosen:
            values["medium"], values["unit"] = draw(st.sampled_from(MEDIUM_UNITS))
        for name in draw(st.lists(st.sampled_from(chosen), max_size=2, unique=True)):
            wrong = columns[name][1] if columns[name] else st.sampled_from(["lava", "furlongs"])
            values[name] = draw(st.one_of(wrong, JUNK))
        rows.append(values)
    rows += draw(st.lists(st.sampled_from(rows), max_size=2))  # repeats, which must be rejected as repeats
    source_rows = [SourceRow(number, f"line {number + 1}", values) for number, values in enumerate(rows, start=1)]
    return Table("fuzz.csv", "0" * 64, chosen, source_rows)


def commit_and_check(engine, table: Table, target: str, extent, valid_only: bool) -> None:
    """Commit; the report must add up and explain every rejection, and the stored rows match it."""
    admin = Register(engine).actor()
    mapping = effective_mapping(table, target=target, source=f"fuzz-{next(SOURCES)}")
    report = commit(engine, admin, table, mapping, extent=extent, valid_only=valid_only)
    event(f"stored rows: {'some' if report.imported else 'none'}")
    assert report.rows_read == len(table.rows) == report.imported + report.unchanged + report.rejected
    assert all(problem.column and problem.reason for problem in report.rejections)
    assert report.committed == (report.imported > 0)
    if not valid_only and report.rejected:
        assert report.imported == 0
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(t.import_record)
                              .where(t.import_record.c.source == mapping.source)).scalar_one()
    assert stored == report.imported


def site_row(number: int, **values) -> SourceRow:
    row = {"name": f"row {number}", "lat": "52.3", "lon": "76.9", "activity": "other", "precision": "approximate"}
    return SourceRow(number, f"line {number + 1}", {**row, **values})


def test_nul_characters_reject_their_row_naming_the_column(fuzz_engine):
    """Regression: a NUL character (PostgreSQL text cannot hold one) in a site name, a sample's note or the site
    reference stopped the whole import with psycopg.DataError; now only its row is rejected."""
    admin = Register(fuzz_engine).actor()
    sites = Table("nul.csv", "0" * 64, list(site_row(1).values), [site_row(1, name="a\x00b"), site_row(2)])
    report = commit(fuzz_engine, admin, sites, effective_mapping(sites, source=f"fuzz-{next(SOURCES)}"),
                    valid_only=True)
    assert (report.imported, report.rejected) == (1, 1)
    assert (report.rejections[0].row, report.rejections[0].column) == (1, "name")
    assert "NUL" in report.rejections[0].reason
    sample = {"site": "KZ-PAV-0001", "contaminant": "hg", "value": "0,3", "medium": "soil", "unit": "mg/kg"}
    samples = Table("nul.csv", "0" * 64, list(sample) + ["note"], [
        SourceRow(1, "line 2", {**sample, "site": "KZ-PAV-\x00", "note": None}),
        SourceRow(2, "line 3", {**sample, "note": "\x00"}), SourceRow(3, "line 4", {**sample, "note": "ok"})])
    report = commit(fuzz_engine, admin, samples, effective_mapping(samples, source=f"fuzz-{next(SOURCES)}"),
                    valid_only=True)
    assert (report.imported, [(p.row, p.column) for p in report.rejections]) == (1, [(1, "site"), (2, "note")])


def test_a_rejected_infinite_value_is_stored_in_the_batch_report(fuzz_engine):
    """Regression: a sample value of 1e999 (read as infinity) was echoed into the batch's JSON report, which
    PostgreSQL refused ("Token Infinity is invalid"), losing the valid rows with it."""
    sample = {"site": "KZ-PAV-0001", "contaminant": "hg", "medium": "soil", "unit": "mg/kg"}
    table = Table("inf.csv", "0" * 64, list(sample) + ["value"], [
        SourceRow(1, "line 2", {**sample, "value": "1e999"}), SourceRow(2, "line 3", {**sample, "value": "0,5"})])
    report = commit(fuzz_engine, Register(fuzz_engine).actor(), table,
                    effective_mapping(table, source=f"fuzz-{next(SOURCES)}"), valid_only=True)
    assert (report.imported, report.rejections[0].column, report.to_json()["rejections"][0]["value"]) == \
        (1, "value", "inf")


def test_integers_beyond_64_bits_are_keyed_and_explained(fuzz_engine):
    """Regression: a JSON record (or spreadsheet cell) holding an integer beyond 64 bits made the row hash
    (orjson) raise TypeError."""
    table = Table("big.json", "0" * 64, list(site_row(1).values), [site_row(1, lat=-(2 ** 63) - 1), site_row(2)])
    report = commit(fuzz_engine, Register(fuzz_engine).actor(), table,
                    effective_mapping(table, source=f"fuzz-{next(SOURCES)}"), valid_only=True)
    assert (report.imported, report.rejected, report.rejections[0].column) == (1, 1, "lat/lon")


@fuzz(250)
@given(table=tables(SITE_COLUMNS, ("name", "lat", "lon", "activity", "precision")), world=st.booleans(),
       valid_only=st.booleans())
def test_site_rows_are_stored_or_rejected_with_their_column_and_reason(fuzz_engine, table, world, valid_only):
    commit_and_check(fuzz_engine, table, "site", WORLD_EXTENT if world else KAZAKHSTAN_EXTENT, valid_only)


@fuzz(250)
@given(table=tables(SAMPLE_COLUMNS, ("site", "contaminant", "value", "medium", "unit")), valid_only=st.booleans())
def test_sample_rows_are_stored_or_rejected_with_their_column_and_reason(fuzz_engine, table, valid_only):
    commit_and_check(fuzz_engine, table, "sample", KAZAKHSTAN_EXTENT, valid_only)


# ---- mappings ------------------------------------------------------------------------------------------------------
MAPPING_VALUES = st.one_of(
    JSON_SCALARS, st.lists(st.sampled_from(["name", "lat", "lon", "missing"]), max_size=3),
    st.dictionaries(st.sampled_from(["name_en", "lat", "lon", "activity", "stage", "bogus", "region_kato"]),
                    st.one_of(JSON_SCALARS, st.sampled_from(["name", "lat", "{name}", "{missing}", "{"]),
                              st.dictionaries(st.text(max_size=5), JSON_SCALARS, max_size=2)), max_size=3),
    st.sampled_from(["site", "sample", "warn", "reject", "repair", "EPSG:32643", "EPSG:0", "rows", "utf-8",
                     "cp1251", "bogus-encoding", ",", ";;", "", "name"]),
)
MAPPINGS = st.dictionaries(st.sampled_from(KEYS + ("_comment", "unknown")), MAPPING_VALUES, max_size=5)
MAPPED_CSV = "name,lat,lon,activity,precision\nFuzz site,52.29,76.97,landfill_dump,approximate\n"


@fuzz(300)
@given(data=MAPPINGS)
def test_any_mapping_is_refused_with_a_reason_or_imports(fuzz_engine, data):
    try:
        mapping = mapping_from_dict(data)
    except InvalidInput as error:
        check_explained(error)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "mapped.csv")
        path.write_text(MAPPED_CSV, encoding="utf-8")
        try:
            report = import_file(fuzz_engine, Register(fuzz_engine).actor(), path, mapping=mapping, valid_only=True)
        except InvalidInput as error:
            check_explained(error)
            return
    assert report.rows_read == 1 == report.imported + report.unchanged + report.rejected
    assert all(problem.column and problem.reason for problem in report.rejections)


@pytest.mark.parametrize("data, field", [
    ({"delimiter": 1.0}, "mapping delimiter"),  # was TypeError from the csv module
    ({"delimiter": ";;"}, "mapping delimiter"),  # was TypeError: "delimiter" must be a 1-character string
    ({"encoding": 1}, "mapping encoding"),  # was TypeError from bytes.decode
    ({"source": 1}, "mapping source"),  # was TypeError: can only concatenate str (not "int") to str
    ({"records_path": ["rows"]}, "mapping records_path"),  # was AttributeError: no .split
    ({"templates": {"name_en": 5}}, "mapping templates.name_en"),  # was TypeError from re.split
    ({"constants": {"name_kk": math.nan}}, "mapping.constants.name_kk"),  # was DataError: NaN in the stored JSON
    ({"values": {"stage": {"x": "a\x00"}}}, "mapping.values.stage.x"),  # was DataError: NUL in the stored JSON
])
def test_mapping_options_of_the_wrong_type_are_refused_naming_the_key(data, field):
    """Regression: fuzzing found these mapping values passed the mapping's checks and failed deep in an import."""
    with pytest.raises(InvalidInput) as refused:
        mapping_from_dict(data)
    assert refused.value.field == field
    check_explained(refused.value)
