"""The import page in a real Chromium: a Russian-locale CSV is checked row by row, then only its valid rows imported."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import open_signed_in
from tests.e2e.test_edit import upload, wait_text

pytestmark = pytest.mark.e2e

CSV = ("Название;Широта;Долгота;Вид деятельности;Точность\n"
       "Склад ядохимикатов у Аксу;52,04;76,93;pesticide_store;settlement\n"
       "Шламонакопитель;51,63;75,38;chemical_plant;approximate\n"
       "Перепутанные координаты;76,95;52,29;other;approximate\n")


def test_a_russian_csv_is_previewed_then_only_valid_rows_imported(app_server, offline_page):
    url, _ = app_server
    page = offline_page
    open_signed_in(page, url, "import_page")
    wait_text(page, "Import sites or samples")
    upload(page, [{"name": "объекты_павлодар.csv", "mimeType": "text/csv", "buffer": CSV.encode("cp1251")}],
           "Column mapping")
    wait_text(page, "1 rows rejected")
    body = page.inner_text("body")
    assert "swapped" in body.lower()
    assert page.get_by_role("button", name="Import all (nothing is stored if any row is rejected)").is_disabled()
    page.get_by_role("button", name="Import only the 2 valid rows and reject the others").click()
    wait_text(page, "Imported 2 rows")


def test_a_truncated_zip_is_refused_with_a_reason(app_server, offline_page):
    url, _ = app_server
    page = offline_page
    open_signed_in(page, url, "import_page")
    wait_text(page, "Import sites or samples")
    upload(page, [{"name": "layers.zip", "mimeType": "application/zip", "buffer": b"PK\x03\x04\x14\x00\x00\x00broken"}],
           "The file cannot be imported")


def test_a_field_export_is_checked_then_its_submissions_imported(app_server, offline_page, tmp_path):
    from tests.gis.test_odk import mercury_sludge, pesticide_store, write_export

    url, _ = app_server
    path = write_export(tmp_path / "kz_legacy_sites.zip", [mercury_sludge(), pesticide_store()])
    page = offline_page
    open_signed_in(page, url, "import_page")
    wait_text(page, "Import sites or samples")
    page.get_by_text("an ODK Collect / KoboToolbox export of the field form").click()
    upload(page, str(path), "kz_legacy_sites.zip")
    page.get_by_role("button", name="Import the 2 valid submissions").click()
    wait_text(page, "Imported 2 submissions")
