"""Data exports of the register: every format, filtered by region or sites, names in the chosen language,
each file naming its date, method and source; and the offline HTML map from the CLI."""

from __future__ import annotations

import csv
import io
import zipfile

import geopandas as gpd
import pytest
from openpyxl import load_workbook
from pyogrio import read_info

from gis.cli_printmap import DATA_FORMATS
from gis.db import make_engine
from gis.export import FORMATS, export_sites
from gis.scoring import rescore
from gis.services import Register
from sites.errors import InvalidInput
from tests.conftest import cli_invoker, demo_site_count

HOSTILE = "=HYPERLINK(\"http://example.invalid\",\"click\")"


@pytest.fixture(scope="module")
def engine(demo_url):
    engine = make_engine(demo_url)
    register = Register(engine)
    site = register.get_site("KZ-PAV-0001")
    register.update_site(register.actor(), "KZ-PAV-0001", site["version"], {"name_kk": "Павлодар химия зауыты"})
    register.create_site(register.actor(), {"code": "KZ-KZY-0099", "name_en": HOSTILE, "lat": 45.0, "lon": 60.0,
                                            "location_precision": "approximate", "region_kato": "430000000",
                                            "activity": "other"})
    rescore(engine, register.actor())
    yield engine
    engine.dispose()


def test_the_cli_offers_exactly_the_formats_the_exporter_writes():
    assert DATA_FORMATS == FORMATS


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "kml"])
def test_map_formats_hold_every_site_in_wgs84(engine, tmp_path, fmt):
    path = tmp_path / f"sites.{fmt}"
    assert export_sites(engine, fmt, path) == demo_site_count() + 1
    frame = gpd.read_file(path)
    assert len(frame) == demo_site_count() + 1 and frame.crs.to_epsg() == 4326


def test_the_geopackage_names_date_method_and_source(engine, tmp_path):
    export_sites(engine, "gpkg", tmp_path / "s.gpkg", lang="ru")
    meta = read_info(tmp_path / "s.gpkg", layer="sites")["layer_metadata"]
    assert meta["method"] == "kz-screening 1.0.0" and meta["exported"]
    assert "реестр" in meta["source"]


def test_a_region_export_in_kazakh_keeps_that_region_and_kazakh_names(engine, tmp_path):
    count = export_sites(engine, "geojson", tmp_path / "p.geojson", region="KZ-PAV", lang="kk")
    frame = gpd.read_file(tmp_path / "p.geojson")
    assert count == len(frame) > 0 and set(frame["region_kato"]) == {"550000000"}
    assert set(frame["region"]) == {"Павлодар"}
    assert "Павлодар химия зауыты" in set(frame["name"])


def test_a_zipped_shapefile_carries_its_projection_and_says_what_short_names_mean(engine, tmp_path):
    export_sites(engine, "shp", tmp_path / "s.zip", codes="KZ-PAV-0001,KZ-KZY-0099")
    names = zipfile.ZipFile(tmp_path / "s.zip").namelist()
    assert {"sites.shp", "sites.shx", "sites.dbf", "sites.prj", "sites.cpg", "README.txt"} <= set(names)
    frame = gpd.read_file(f"zip://{tmp_path / 's.zip'}!sites.shp")
    assert sorted(frame["code"]) == ["KZ-KZY-0099", "KZ-PAV-0001"] and frame.crs.to_epsg() == 4326
    assert "precision = location_precision" in zipfile.ZipFile(tmp_path / "s.zip").read("README.txt").decode()


def test_a_shapefile_needs_a_zip_name(engine, tmp_path):
    with pytest.raises(InvalidInput, match="a .zip file name"):
        export_sites(engine, "shp", tmp_path / "s.shp")
    assert list(tmp_path.iterdir()) == []


def test_csv_rows_carry_the_export_date_and_each_sites_method(engine, tmp_path):
    export_sites(engine, "csv", tmp_path / "s.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "s.csv").read_text(encoding="utf-8"))))
    assert len(rows) == demo_site_count() + 1
    assert {row["score_method"] for row in rows} == {"kz-screening 1.0.0"} and rows[0]["exported"]


def test_the_workbook_has_a_header_and_keeps_formula_like_names_as_text(engine, tmp_path):
    export_sites(engine, "xlsx", tmp_path / "s.xlsx")
    sheet = load_workbook(tmp_path / "s.xlsx").active
    header = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=2, max_row=6)}
    assert header["method"] == "kz-screening 1.0.0" and header["exported"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == HOSTILE]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_unknown_sites_and_regions_are_refused_before_writing(engine, tmp_path):
    with pytest.raises(InvalidInput, match="KZ-PAV-9999"):
        export_sites(engine, "csv", tmp_path / "s.csv", codes="KZ-PAV-9999")
    with pytest.raises(InvalidInput):
        export_sites(engine, "csv", tmp_path / "s.csv", region="Atlantis")
    assert list(tmp_path.iterdir()) == []


def test_the_cli_writes_an_offline_html_map_and_refuses_print_options(demo_url, engine, tmp_path, monkeypatch):
    run = cli_invoker(demo_url, monkeypatch)
    result = run("export", "--format", "html", "-o", str(tmp_path / "m.html"), "--region", "KZ-PAV", "--lang", "ru")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "works offline" in result.output and "<script src=" not in html and "Объекты исторического" in html
    refused = run("export", "--format", "html", "-o", str(tmp_path / "n.html"), "--paper", "a3")
    assert refused.exit_code == 1 and "--paper: expected --format png or pdf" in refused.output


def test_popups_for_more_sites_than_postgresql_takes_parameters_are_read_in_one_statement(engine):
    from gis.html_export import popup_sites

    asked = [f"KZ-XXX-{n:06d}" for n in range(70_000)] + ["KZ-PAV-0001"]  # IN (...) would need 70,001 parameters
    assert [site["code"] for site in popup_sites(engine, asked, "en")] == ["KZ-PAV-0001"]
