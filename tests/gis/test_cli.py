"""The `sites` CLI through click's runner against a real database."""

from __future__ import annotations

import shutil
import subprocess

import geopandas as gpd
import pytest

from gis.demo import load_demo
from gis.services import Register
from tests.conftest import cli_invoker, demo_site_count


@pytest.fixture
def run(db_url, monkeypatch):
    invoke = cli_invoker(db_url, monkeypatch)
    return invoke


def test_db_url_prints_the_configured_url(run, db_url):
    result = run("db", "url")
    assert result.exit_code == 0 and result.output.strip() == db_url


def test_migrate_demo_and_export(run, tmp_path):
    assert "schema at revision" in run("migrate").output
    assert f"{demo_site_count()} sites added" in run("demo").output
    assert "0 sites added" in run("demo").output
    for fmt, name in (("geojson", "s.geojson"), ("gpkg", "s.gpkg")):
        result = run("export", "--format", fmt, "-o", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        frame = gpd.read_file(tmp_path / name)
        assert len(frame) == demo_site_count() and frame.crs.to_epsg() == 4326
        assert {"code", "name", "region", "workflow_stage", "priority_class", "score"} <= set(frame.columns)
    run("export", "--format", "csv", "-o", str(tmp_path / "s.csv"))
    header = (tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("code,name") and header.endswith("lat,lon")


def test_export_to_a_missing_folder_is_refused_cleanly(run, tmp_path):
    result = run("export", "--format", "geojson", "-o", str(tmp_path / "nowhere" / "x.geojson"))
    assert result.exit_code == 1 and "output: expected a file in an existing folder" in result.output


def test_acting_as_an_unknown_user_is_refused(run):
    result = run("--as", "nobody", "demo")
    assert result.exit_code == 1 and "no user named 'nobody'" in result.output


def test_users_add_and_list(run):
    result = run("users", "add", "aigerim", "--role", "inspector", "--region", "KZ-PAV")
    assert result.exit_code == 0 and "550000000" in result.output
    assert "aigerim\tinspector\t550000000" in run("users", "list").output
    refused = run("--as", "aigerim", "users", "add", "x", "--role", "admin")
    assert refused.exit_code == 1 and "may not manage users" in refused.output


def test_ogrinfo_sees_the_sites_layer(engine, db_url):
    if shutil.which("ogrinfo") is None:
        pytest.skip("ogrinfo (gdal-bin) is not installed; scripts/test installs it")
    load_demo(engine, Register(engine).actor())
    result = subprocess.run(["ogrinfo", "-ro", "-so", db_url, "sites"], capture_output=True, text=True, check=True)
    assert "Geometry: Point" in result.stdout
    assert f"Feature Count: {demo_site_count()}" in result.stdout
    assert 'ID["EPSG",4326]' in result.stdout


def test_site_commands_edit_refuse_stale_and_keep_history(run, monkeypatch):
    run("demo")
    added = run("site", "add", "name_en=Test store", "lat=43.2", "lon=76.9", "activity=pesticide_store",
                "location_precision=approximate", "region_kato=190000000", "--new-site")
    assert added.exit_code == 0 and "added KZ-ALM-" in added.output
    code = added.output.split()[1]
    assert "version 2" in run("site", "edit", code, "stage=registered", "--version", "1").output
    stale = run("site", "edit", code, "stage=closed", "--version", "1")
    assert stale.exit_code == 1 and "changed by someone else" in stale.output and "stage" in stale.output
    assert '"stage": "registered"' in run("site", "show", code).output
    bad = run("site", "edit", code, "lat=123", "--version", "2")
    assert bad.exit_code == 1 and "lat: expected a latitude" in bad.output and "123" in bad.output
    assert "archived" in run("site", "archive", code, "--version", "2").output
    history = run("site", "history", code).output.splitlines()
    assert [line.split("\t")[2] for line in history] == ["insert", "update", "archive"]
    assert history[1].split("\t")[4] == "stage"


def test_rank_exports_a_workbook_with_the_method_version_and_date(run, tmp_path):
    import datetime as dt

    import openpyxl

    run("demo")
    run("score")
    path = tmp_path / "ranking.xlsx"
    assert "wrote the ranking of" in run("rank", "--format", "xlsx", "-o", str(path)).output
    sheet = openpyxl.load_workbook(path)["Ranking"]
    labels = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, max_row=5, values_only=True)}
    assert labels["Method"] == "kz-screening 1.0.0" and labels["Exported"] == dt.date.today().isoformat()
    header = next(i for i, row in enumerate(sheet.iter_rows(values_only=True), start=1) if row[0] == "rank")
    assert sheet.cell(row=header + 1, column=1).value == 1 and sheet.max_row - header == demo_site_count()
    refused = run("rank", "--format", "xlsx")
    assert refused.exit_code == 1 and "-o PATH" in refused.output
    csv_path = tmp_path / "ranking.csv"
    run("rank", "--format", "csv", "-o", str(csv_path))
    assert csv_path.read_text(encoding="utf-8").startswith("rank,code,class")


def test_an_unreachable_database_is_one_line_not_a_traceback(monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on once it is closed again
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run = cli_invoker(f"postgresql://nobody:wrong@127.0.0.1:{port}/sites", monkeypatch)
    result = run("site", "show", "KZ-PAV-0001")
    assert result.exit_code == 1, result.output
    assert "Error: the database failed or could not be reached" in result.output
    assert "Traceback" not in result.output
