"""Bulk import of sites and samples from real inventories and hand-made bad files: explained, atomic, idempotent."""

from __future__ import annotations

import json
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import Point, Polygon
from sqlalchemy import func, select

from gis import tables as t
from gis.import_mapping import detect_mapping, load_mapping, mapping_from_dict
from gis.import_readers import read_table
from gis.reference import load_reference
from gis.services import Register
from gis.site_import import commit, effective_mapping, import_file, parse_extent, preview
from sites.errors import InvalidInput
from sites.records import KAZAKHSTAN_EXTENT, WORLD_EXTENT
from tests.conftest import ROOT, cli_invoker, shared_data
from tests.gis.factories import site_data

MAPPINGS = ROOT / "data" / "mappings"
NPL = "real-inventories/us_epa_npl_sites_hrs.csv"
VBS = "real-inventories/ch_vbs_polluted_sites.json"
CONCENTRATIONS = "real-inventories/us_epa_superfund_concentrations.zip"
RU_HEADER = "Название;Широта;Долгота;Вид деятельности;Точность"


def counts(engine) -> dict[str, int]:
    """Rows of every table an import writes to."""
    with engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (t.site, t.sample, t.import_batch, t.import_record, t.audit)}


@pytest.fixture
def admin(engine):
    return Register(engine).actor()


def run_import(engine, admin, path, mapping=None, **options):
    return import_file(engine, admin, path, mapping=mapping, **options)


def reasons_all_given(report) -> bool:
    return all(p.reason and p.column for p in report.rejections)


# ---- real inventories ----------------------------------------------------------------------------------------------
def test_us_npl_imports_every_row_or_says_why_and_reimport_changes_nothing(engine, admin):
    path, mapping = shared_data(NPL), load_mapping(MAPPINGS / "us_epa_npl.json")
    started = time.perf_counter()
    first = run_import(engine, admin, path, mapping, extent=WORLD_EXTENT, valid_only=True)
    print(f"NPL import: {first.rows_read} rows in {time.perf_counter() - started:.1f} s; {first.reasons}")
    assert first.rows_read == 1762 == first.imported + first.rejected
    assert first.imported > 1700 and reasons_all_given(first) and first.committed
    stored = counts(engine)
    assert stored["site"] == first.imported == stored["import_record"] and stored["import_batch"] == 1
    with engine.connect() as conn:
        codes = list(conn.execute(select(t.site.c.code).order_by(t.site.c.code).limit(2)).scalars())
        stages = dict(conn.execute(select(t.site.c.stage, func.count()).group_by(t.site.c.stage)).all())
        audited = conn.execute(select(func.count()).where(t.audit.c.entity == "site")).scalar_one()
    assert codes == ["KZ-XXX-0001", "KZ-XXX-0002"] and audited == first.imported
    assert stages == {"registered": 1323, "closed": 391, "suspected": 48}
    again = run_import(engine, admin, path, mapping, extent=WORLD_EXTENT, valid_only=True)
    assert (again.imported, again.unchanged, again.rejected) == (0, first.imported, first.rejected)
    assert counts(engine) == stored


def test_swiss_vbs_records_json_imports_with_repeats_rejected(engine, admin):
    path, mapping = shared_data(VBS), load_mapping(MAPPINGS / "ch_vbs.json")
    first = run_import(engine, admin, path, mapping, extent=WORLD_EXTENT, valid_only=True)
    print(f"VBS import: {first.rows_read} rows in {first.seconds:.1f} s; {first.reasons}")
    assert first.rows_read == 1856 == first.imported + first.rejected
    assert reasons_all_given(first)
    assert first.reasons.get("repeated row") == 5 and first.reasons.get("repeated row key") == 8
    with engine.connect() as conn:
        row = conn.execute(select(t.site).where(t.site.c.sources.like("%object CH 0116"))).mappings().one()
    assert (row["activity"], row["stage"], row["name_en"]) == ("military_test_site", "investigated",
                                                                "Centrale de chauffe")
    stored = counts(engine)
    again = run_import(engine, admin, path, mapping, extent=WORLD_EXTENT, valid_only=True)
    assert (again.imported, again.unchanged, again.rejected) == (0, first.imported, first.rejected)
    assert counts(engine) == stored


def test_us_concentrations_import_as_samples_after_the_npl(engine, admin):
    load_reference(engine, admin)
    npl = run_import(engine, admin, shared_data(NPL), load_mapping(MAPPINGS / "us_epa_npl.json"),
                     extent=WORLD_EXTENT, valid_only=True)
    mapping = load_mapping(MAPPINGS / "us_epa_concentrations.json")
    started = time.perf_counter()
    report = run_import(engine, admin, shared_data(CONCENTRATIONS), mapping, valid_only=True)
    seconds = time.perf_counter() - started
    print(f"concentrations: {report.rows_read} rows, {report.imported} imported in {seconds:.1f} s; {report.reasons}")
    assert report.rows_read == 135804 == report.imported + report.unchanged + report.rejected
    assert report.imported > 10000 and reasons_all_given(report) and npl.imported
    reasons = report.reasons
    assert reasons["contaminant not in the catalogue"] > 10000 and reasons["value blank"] > 10000
    assert any(reason.startswith("unit:") for reason in reasons)
    assert any("CAS 71-43-2" in p.reason for p in report.rejections)  # benzene is not in the catalogue
    with engine.connect() as conn:
        units = set(conn.execute(select(t.sample.c.unit_canonical).distinct()).scalars())
        records = conn.execute(select(func.count()).where(t.import_record.c.entity == "sample")).scalar_one()
    assert units <= {"mg/kg", "mg/L", "mg/m3", "Bq/kg", "Bq/L"} and records == report.imported
    assert seconds < 120
    again = run_import(engine, admin, shared_data(CONCENTRATIONS), mapping, valid_only=True)
    assert (again.imported, again.unchanged, again.rejected) == (0, report.imported, report.rejected)


# ---- files refused whole: a clear message and an unchanged register ------------------------------------------------
def write_csv(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def good_csv(path):
    return write_csv(path, "name,lat,lon,activity,location_precision\n"
                           "Test store,43.2,76.9,pesticide_store,approximate\n")


def refused(engine, admin, path, match: str, **options):
    """Import ``path`` expecting a refusal whose message matches; the register must not change."""
    before = counts(engine)
    with pytest.raises(InvalidInput, match=match) as caught:
        run_import(engine, admin, path, **options)
    assert counts(engine) == before
    return caught.value.message


def test_truncated_zip_is_refused(engine, admin, tmp_path):
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(good_csv(tmp_path / "sites.csv"), "sites.csv")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    message = refused(engine, admin, cut, "truncated or corrupt")
    assert "cut.zip" in message and "expected a complete zip archive" in message


def test_zip_entry_escaping_its_folder_is_refused_before_extracting(engine, admin, tmp_path):
    name = f"evil-{uuid.uuid4().hex}.csv"
    archive_path = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("sites.csv", good_csv(tmp_path / "s.csv").read_text())
        archive.writestr(f"../{name}", "name,lat,lon\nx,1,2\n")
    message = refused(engine, admin, archive_path, "paths stay inside")
    assert f"../{name}" in message
    assert not (tmp_path.parent / name).exists() and not (Path(tempfile.gettempdir()) / name).exists()


def test_absolute_zip_entry_is_refused(engine, admin, tmp_path):
    archive_path = tmp_path / "abs.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("/etc/sites.csv", "name,lat,lon\nx,1,2\n")
    refused(engine, admin, archive_path, "no absolute paths")


def test_file_over_the_size_limit_is_refused_saying_its_size(engine, admin, tmp_path):
    path = good_csv(tmp_path / "big.csv")
    size = path.stat().st_size
    message = refused(engine, admin, path, "at most 50 bytes", max_bytes=50)
    assert f"{size:,} bytes" in message


def test_zip_unpacking_beyond_the_limit_is_refused(engine, admin, tmp_path):
    archive_path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sites.csv", "name,lat,lon\n" + "x,1,2\n" * 20000)
    assert archive_path.stat().st_size < 5000
    refused(engine, admin, archive_path, "contents total at most 5,000 bytes", max_bytes=5000)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_prj_is_refused(engine, admin, tmp_path):
    frame = gpd.GeoDataFrame({"name": ["A"], "activity": ["other"]}, geometry=[Point(612345, 5765432)])
    frame.to_file(tmp_path / "sites.shp")
    assert not (tmp_path / "sites.prj").exists()
    archive_path = tmp_path / "sites.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for part in tmp_path.glob("sites.*"):
            if part.suffix != ".zip":
                archive.write(part, part.name)
    refused(engine, admin, archive_path, r"projected or unknown CRS: add the \.prj")
    refused(engine, admin, tmp_path / "sites.shp", r"projected or unknown CRS: add the \.prj")


def test_csv_mixing_utf8_and_windows_1251_is_refused_naming_the_line(engine, admin, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("Название;Широта;Долгота\n".encode("utf-8") + "Склад;43,2;76,9\n".encode("utf-8")
                     + "Завод;50,1;72,9\n".encode("cp1251"))
    message = refused(engine, admin, path, "one encoding throughout the file")
    assert "line 3" in message and "UTF-8 from line 1" in message and "Windows-1251" in message


def test_mapping_naming_a_missing_column_is_refused(engine, admin, tmp_path):
    mapping = mapping_from_dict({"columns": {"name_en": "Title"}, "constants": {"activity": "other"}})
    refused(engine, admin, good_csv(tmp_path / "s.csv"), "mapping: expected a column of the file", mapping=mapping)


def test_mapping_file_with_unknown_keys_or_fields_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="one of the mapping keys"):
        mapping_from_dict({"colums": {}})
    with pytest.raises(InvalidInput, match="a site field"):
        mapping_from_dict({"constants": {"colour": "red"}})
    with pytest.raises(InvalidInput, match="an object mapping values found"):
        mapping_from_dict({"values": {"stage": "registered"}})
    samples = mapping_from_dict({"target": "sample", "columns": {"value": "Value"}})
    table = read_table(write_csv(tmp_path / "lab.csv", "Value,CAS\n1,7439-97-6\n"))
    with pytest.raises(InvalidInput, match="how samples find their site"):
        effective_mapping(table, samples)


# ---- geometry files ------------------------------------------------------------------------------------------------
def write_geojson(path, features: list[tuple[dict, dict]]):
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geom} for props, geom in features]}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


SITE_PROPS = {"activity": "landfill_dump", "location_precision": "facility"}


def test_self_intersecting_polygon_is_repaired_with_a_warning_and_a_degenerate_one_refused(engine, admin, tmp_path):
    bowtie = {"type": "Polygon",
              "coordinates": [[[76.9, 52.2], [77.0, 52.3], [77.0, 52.2], [76.9, 52.3], [76.9, 52.2]]]}
    flat = {"type": "Polygon", "coordinates": [[[76.9, 52.2], [77.0, 52.2], [77.1, 52.2], [76.9, 52.2]]]}
    path = write_geojson(tmp_path / "dumps.geojson", [({"name": "Bowtie dump", **SITE_PROPS}, bowtie),
                                                      ({"name": "Flat dump", **SITE_PROPS}, flat)])
    before = counts(engine)
    refused = run_import(engine, admin, path)
    assert not refused.committed and refused.rejections[0].row == 1 and "crosses itself" in refused.rejections[0].reason
    assert counts(engine) == before
    report = run_import(engine, admin, path, mapping_from_dict({"on_invalid_polygon": "repair"}), valid_only=True)
    assert (report.imported, report.rejected) == (1, 1)
    assert report.warnings[0].row == 1 and "repaired with make_valid" in report.warnings[0].reason
    assert report.rejections[0].row == 2 and "nothing polygonal is left" in report.rejections[0].reason
    with engine.connect() as conn:
        valid, parts = conn.execute(select(func.ST_IsValid(t.site.c.footprint),
                                           func.ST_NumGeometries(t.site.c.footprint))).one()
    assert valid and parts == 2


def test_geopackage_in_utm_is_reprojected_and_polygons_give_a_representative_point(engine, admin, tmp_path):
    square = Polygon([(612000, 5790000), (613000, 5790000), (613000, 5791000), (612000, 5791000)])
    frame = gpd.GeoDataFrame({"name_ru": ["Хвостохранилище"], **{k: [v] for k, v in SITE_PROPS.items()}},
                             geometry=[square], crs="EPSG:32643")
    frame.to_file(tmp_path / "tailings.gpkg", driver="GPKG")
    report = run_import(engine, admin, tmp_path / "tailings.gpkg")
    assert report.imported == 1 and report.committed
    with engine.connect() as conn:
        lon, lat, inside = conn.execute(select(func.ST_X(t.site.c.geom), func.ST_Y(t.site.c.geom),
                                               func.ST_Covers(t.site.c.footprint, t.site.c.geom))).one()
    assert 76.0 < lon < 77.0 and 52.0 < lat < 52.5 and inside


def test_kml_and_kmz_points_are_read_as_wgs84(engine, admin, tmp_path):
    kml = ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           '<Placemark><name>Pesticide store Shieli</name><Point><coordinates>66.75,44.17,0</coordinates></Point>'
           '</Placemark></Document></kml>')
    (tmp_path / "doc.kml").write_text(kml, encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "stores.kmz", "w") as archive:
        archive.writestr("doc.kml", kml)
    mapping = mapping_from_dict({"columns": {"name_en": "Name"},
                                 "constants": {"activity": "pesticide_store", "location_precision": "approximate"}})
    for name, source in (("doc.kml", "kml"), ("stores.kmz", "kmz")):
        report = run_import(engine, admin, tmp_path / name, mapping, source=source)
        assert report.imported == 1, report.rejections
    with engine.connect() as conn:
        points = conn.execute(select(func.ST_X(t.site.c.geom), func.ST_Y(t.site.c.geom))).all()
    assert [tuple(round(v, 2) for v in p) for p in points] == [(66.75, 44.17)] * 2


def test_xlsx_first_sheet_or_named_sheet(engine, admin, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active.append(["nothing here"])
    sheet = book.create_sheet("Объекты")
    sheet.append(["Название", "Широта", "Долгота", "Вид деятельности", "Точность", "Область"])
    sheet.append(["Склад ядохимикатов", 43.2, 76.9, "склад пестицидов", "приблизительно", "Алматинская область"])
    book.save(tmp_path / "sites.xlsx")
    report = run_import(engine, admin, tmp_path / "sites.xlsx", sheet="Объекты")
    assert report.imported == 1, report.rejections
    stored = Register(engine).get_site("KZ-ALM-0001")
    assert (stored["name_ru"], stored["activity"], stored["location_precision"]) == (
        "Склад ядохимикатов", "pesticide_store", "approximate")
    with pytest.raises(InvalidInput, match="one of the workbook's sheets: notes, Объекты"):
        read_table(tmp_path / "sites.xlsx", sheet="Sites")


# ---- rows explained ------------------------------------------------------------------------------------------------
RU_MAPPING = {"constants": {"location_precision": "settlement"}}


def test_russian_locale_csv_semicolons_cp1251_decimal_commas(engine, admin, tmp_path):
    text = ("Название;Широта;Долгота;Вид деятельности\n"
            "Павлодарский химзавод;52,2871;76,9674;химический завод\n"
            "Склад пестицидов Шиели;44,17;66,75;pesticide_store\n")
    path = write_csv(tmp_path / "объекты.csv", text, "cp1251")
    table = read_table(path)
    assert table.columns == ["Название", "Широта", "Долгота", "Вид деятельности"]
    assert any("Windows-1251" in note and "';'" in note for note in table.notes)
    report = run_import(engine, admin, path, mapping_from_dict(RU_MAPPING))
    assert (report.rows_read, report.imported, report.rejected) == (2, 2, 0), report.rejections
    with engine.connect() as conn:
        rows = conn.execute(select(t.site.c.name_ru, t.site.c.activity, func.ST_Y(t.site.c.geom))
                            .order_by(t.site.c.code)).all()
    assert rows[0] == ("Павлодарский химзавод", "chemical_plant", pytest.approx(52.2871))


def test_swapped_and_projected_coordinates_are_explained_and_nothing_is_stored(engine, admin, tmp_path):
    text = ("Название;Широта;Долгота;Вид деятельности\n"
            "Хороший;52,28;76,97;other\n"
            "Перепутанный;76,97;52,28;other\n"
            "Метры;5795000;612345;other\n"
            "Далеко;-33,9;151,2;other\n"
            "Полюс;120,5;52,28;other\n")
    path = write_csv(tmp_path / "bad.csv", text, "utf-8-sig")
    before = counts(engine)
    report = run_import(engine, admin, path, mapping_from_dict(RU_MAPPING))
    assert counts(engine) == before and not report.committed and report.batch_id is None
    assert (report.rows_read, report.imported, report.rejected, report.held_back) == (5, 0, 5, 1)
    by_row = {p.row: p for p in report.rejections}
    assert set(by_row) == {2, 3, 4, 5}
    assert "look swapped" in by_row[2].reason and by_row[2].column == "Широта/Долгота"
    assert "projected CRS given without one" in by_row[3].reason and by_row[3].where == "line 4"
    assert "a point in Kazakhstan" in by_row[4].reason
    assert "look swapped" in by_row[5].reason
    assert report.reasons["projected coordinates without a CRS"] == 1
    assert report.reasons["latitude and longitude swapped"] == 2 and report.reasons["outside the register's extent"] == 1
    outside = run_import(engine, admin, path, mapping_from_dict(RU_MAPPING), extent=WORLD_EXTENT, dry_run=True)
    assert {p.row for p in outside.rejections} == {3, 5}  # in a world register only metres and the pole stay wrong


def test_projected_x_y_with_a_crs_are_transformed(engine, admin, tmp_path):
    path = write_csv(tmp_path / "utm.csv", "name;x;y;activity;location_precision\n"
                     "Tailings;612345;5795000;mining_smelting;facility\n")
    without = run_import(engine, admin, path, dry_run=True)
    assert "projected coordinates without a CRS" in without.reasons
    report = run_import(engine, admin, path, crs="EPSG:32643")
    assert report.imported == 1
    with engine.connect() as conn:
        lon, lat = conn.execute(select(func.ST_X(t.site.c.geom), func.ST_Y(t.site.c.geom))).one()
    expected = pyproj.Transformer.from_crs(32643, 4326, always_xy=True).transform(612345, 5795000)
    assert (lon, lat) == pytest.approx(expected)


def test_every_problem_of_a_row_is_listed_with_its_column(engine, admin, tmp_path):
    path = write_csv(tmp_path / "s.csv", "name,lat,lon,activity,location_precision,area_ha\n"
                     "Brewery,50.1,72.9,brewery,exact,-3\n")
    report = run_import(engine, admin, path, dry_run=True)
    columns = {p.column: p for p in report.rejections}
    assert set(columns) == {"activity", "location_precision", "area_ha"}
    assert "received 'brewery'" in columns["activity"].reason and columns["area_ha"].value == "-3"
    assert report.to_json()["rejections"][0] == {"row": 1, "where": "line 2", "column": "location_precision",
                                                 "value": "exact", "reason": columns["location_precision"].reason}


def test_repeated_rows_and_changed_rows_are_rejected_not_overwritten(engine, admin, tmp_path):
    header = "id,name,lat,lon,activity,location_precision\n"
    rows = "A1,Store,43.2,76.9,pesticide_store,approximate\nA2,Dump,43.3,76.8,landfill_dump,approximate\n"
    path = write_csv(tmp_path / "s.csv", header + rows + "A1,Store,43.2,76.9,pesticide_store,approximate\n"
                     "A2,Dump 2,43.3,76.8,landfill_dump,approximate\n")
    mapping = mapping_from_dict({"row_key": ["id"], "source": "inventory-2024"})
    report = run_import(engine, admin, path, mapping, valid_only=True)
    assert (report.imported, report.rejected) == (2, 2)
    assert report.reasons == {"repeated row": 1, "repeated row key": 1}
    changed = write_csv(tmp_path / "s2.csv", header + rows.replace("Dump", "Old dump"))
    again = run_import(engine, admin, changed, mapping, valid_only=True)
    assert (again.imported, again.unchanged, again.rejected) == (0, 1, 1)
    assert "with other values; the stored record is kept" in again.rejections[0].reason
    assert Register(engine).get_site("KZ-XXX-0002")["name_en"] == "Dump"


def test_duplicates_of_stored_sites_warn_or_reject(engine, admin, tmp_path):
    Register(engine).create_site(admin, site_data(name_en="Pavlodar chlor-alkali plant", lat=52.27, lon=76.97))
    path = write_csv(tmp_path / "s.csv", "name,lat,lon,activity,location_precision\n"
                     "Pavlodar chlor alkali plant,52.271,76.971,chemical_plant,facility\n")
    warned = run_import(engine, admin, path, dry_run=True)
    assert warned.imported == 1 and "KZ-PAV-0001" in warned.warnings[0].reason
    strict = run_import(engine, admin, path, mapping_from_dict({"on_duplicate": "reject"}), dry_run=True)
    assert strict.rejected == 1 and strict.reasons == {"possible duplicate of a stored site": 1}


def test_inspector_may_import_only_into_their_regions(engine, admin, tmp_path):
    register = Register(engine)
    inspector = register.add_user(admin, "aigerim", "inspector", ["KZ-PAV"])
    path = write_csv(tmp_path / "s.csv", "name,lat,lon,activity,location_precision,region\n"
                     "Ours,52.27,76.97,other,settlement,KZ-PAV\nTheirs,43.2,76.9,other,settlement,Алматинская\n")
    report = run_import(engine, inspector, path, valid_only=True)
    assert (report.imported, report.rejected) == (1, 1)
    assert "may edit sites only in their regions" in report.rejections[0].reason
    assert register.get_site("KZ-PAV-0001")["name_en"] == "Ours"


def test_preview_writes_nothing_and_commit_matches_it(engine, admin, tmp_path):
    path = good_csv(tmp_path / "s.csv")
    table = read_table(path)
    mapping = effective_mapping(table)
    before = counts(engine)
    seen = preview(engine, admin, table, mapping)
    assert counts(engine) == before and seen.imported == 1 and seen.dry_run
    done = commit(engine, admin, table, mapping)
    assert done.imported == 1 and done.batch_id and counts(engine)["import_record"] == 1
    with engine.connect() as conn:
        batch = conn.execute(select(t.import_batch)).mappings().one()
    assert (batch["rows_read"], batch["imported"], batch["mode"], batch["target"]) == (1, 1, "all", "site")


def test_commit_rescores_the_imported_sites_once_when_the_register_is_scored(engine, admin, tmp_path):
    from gis.scoring import rescore

    load_reference(engine, admin)
    Register(engine).create_site(admin, site_data())
    rescore(engine, admin)
    report = run_import(engine, admin, good_csv(tmp_path / "s.csv"))
    with engine.connect() as conn:
        scores = conn.execute(select(func.count()).where(t.score.c.site_id == report.site_ids[0])).scalar_one()
    assert scores == 1


# ---- samples -------------------------------------------------------------------------------------------------------
def test_lab_sheet_samples_with_not_detected_and_russian_units(engine, admin, tmp_path):
    load_reference(engine, admin)
    site = Register(engine).create_site(admin, site_data())
    text = ("Код объекта;Вещество;Среда;Значение;Ед. изм.;Признак;Предел обнаружения;Дата\n"
            f"{site['code']};7439-97-6;почва;0,35;мг/кг;;;2023-06-01\n"
            f"{site['code']};Ртуть;почва;;мг/кг;н/о;0,05;2023-06-01\n"
            f"{site['code']};pb;почва;<0,5;мкг/кг;;;2023-06-01\n"
            f"{site['code']};71-43-2;почва;1;мг/кг;;;2023-06-01\n"
            f"{site['code']};hg;почва;2;Ci/kg;;;2023-06-01\n"
            f"{site['code']};hg;почва;;мг/кг;;;2023-06-01\n"
            "KZ-PAV-0999;hg;почва;2;мг/кг;;;2023-06-01\n")
    path = write_csv(tmp_path / "lab.csv", text, "cp1251")
    report = run_import(engine, admin, path, valid_only=True)
    assert report.target == "sample" and (report.imported, report.rejected) == (3, 4)
    assert report.reasons["contaminant not in the catalogue"] == 1 and report.reasons["value blank"] == 1
    assert report.reasons["site not found"] == 1 and "CAS 71-43-2" in report.rejections[0].reason
    with engine.connect() as conn:
        rows = conn.execute(select(t.sample.c.contaminant, t.sample.c.qualifier, t.sample.c.value_canonical,
                                   t.sample.c.unit_canonical).order_by(t.sample.c.id)).all()
    assert rows == [("hg", "=", 0.35, "mg/kg"), ("hg", "<", 0.05, "mg/kg"), ("pb", "<", pytest.approx(0.0005), "mg/kg")]


# ---- small pure pieces ---------------------------------------------------------------------------------------------
def test_register_extent_is_kazakhstan_unless_set(engine, admin):
    boston = site_data(name_en="Boston test site", lat=42.36, lon=-71.06, region_kato=None)
    with pytest.raises(InvalidInput, match="a point in Kazakhstan"):
        Register(engine).create_site(admin, boston)
    stored = Register(engine, extent=WORLD_EXTENT).create_site(admin, boston)
    assert stored["code"] == "KZ-XXX-0001"
    with pytest.raises(InvalidInput, match="within the register's extent"):
        Register(engine, extent=parse_extent("5.9,45.8,10.5,47.9")).create_site(admin, boston)


def test_extents():
    assert parse_extent("kz") == KAZAKHSTAN_EXTENT and parse_extent("world") == WORLD_EXTENT
    assert parse_extent("5.9,45.8,10.5,47.9") == (5.9, 45.8, 10.5, 47.9)
    with pytest.raises(InvalidInput, match="kz, world or minlon"):
        parse_extent("10,50,5,40")


@pytest.mark.parametrize("headers, expected", [
    (["Название", "Широта", "Долгота", "Вид деятельности"], {"name_ru", "lat", "lon", "activity"}),
    (["Атауы", "Ендік", "Бойлық", "Қызмет түрі"], {"name_kk", "lat", "lon", "activity"}),
    (["Site name", "LATITUDE", "Longitude", "Activity_Type", "Region"],
     {"name_en", "lat", "lon", "activity", "region_kato"}),
    (["name", "X", "Y"], {"name_en", "x", "y"}),
])
def test_header_detection_in_three_languages(headers, expected):
    assert set(detect_mapping(headers).columns) == expected


def test_delimiters_are_sniffed(tmp_path):
    for sep in (",", ";", "\t", "|"):
        path = write_csv(tmp_path / "s.csv", sep.join(["name", "lat", "lon"]) + "\n" + sep.join(["a", "1,5", "2"])
                         + "\n" if sep != "," else "name,lat,lon\na,1.5,2\n")
        assert read_table(path).columns == ["name", "lat", "lon"], sep


# ---- command line --------------------------------------------------------------------------------------------------
@pytest.fixture
def cli(db_url, monkeypatch):
    invoke = cli_invoker(db_url, monkeypatch)
    return invoke


def test_cli_dry_run_json_save_mapping_then_import(cli, engine, tmp_path):
    path = write_csv(tmp_path / "объекты.csv", "Название;Широта;Долгота;Вид деятельности\n"
                     "Склад;43,2;76,9;pesticide_store\n", "cp1251")
    saved = tmp_path / "mapping.json"
    result = cli("import", str(path), "--dry-run", "--json", "--save-mapping", str(saved))
    assert result.exit_code == 1  # location_precision is missing: all or nothing refuses
    report = json.loads(result.output)
    assert (report["rows_read"], report["rejected"], report["batch_id"]) == (1, 1, None)
    assert report["rejections"][0]["column"] == "location_precision"
    mapping = json.loads(saved.read_text(encoding="utf-8"))
    assert mapping["columns"]["lat"] == ["Широта"] and mapping["source"] == "объекты"
    mapping["constants"] = {"location_precision": "approximate"}
    saved.write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    done = cli("import", str(path), "--mapping", str(saved), "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["imported"] == 1 and counts(engine)["site"] == 1
    again = cli("import", str(path), "--mapping", str(saved))
    assert again.exit_code == 0 and "imported 0, unchanged 1, rejected 0" in again.output


def test_cli_lists_problems_and_refuses_bad_files_in_one_line(cli, engine, tmp_path):
    path = write_csv(tmp_path / "s.csv", "name,lat,lon,activity,location_precision\nA,612345,5795000,other,facility\n"
                     "B,43.2,76.9,other,facility\n")
    result = cli("import", str(path))
    assert result.exit_code == 1 and "nothing stored" in result.output
    assert "row 1 (line 2), lat/lon:" in result.output and "projected CRS" in result.output
    assert counts(engine)["site"] == 0
    valid = cli("import", str(path), "--valid-only")
    assert valid.exit_code == 0 and "imported 1" in valid.output
    big = cli("import", str(path), "--max-mb", "0.00001")
    assert big.exit_code == 1 and big.output.startswith("Error: file: expected a file of at most 10 bytes")
    world = cli("import", str(path), "--extent", "nowhere")
    assert world.exit_code == 1 and "extent: expected kz, world" in world.output
