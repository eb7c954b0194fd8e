"""The exports page builds each kind of file for the chosen scope and language and offers it for download."""

from __future__ import annotations

import io

import pytest
import streamlit as st
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from sites.regions import parse_region
from tests.conftest import ROOT, add_test_user, demo_site_count, sign_in


@pytest.fixture
def page(demo_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_url)
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("ui/exports_page.py").run()
    assert not at.exception, at.exception
    return at


def download(at, key: str) -> bytes:
    """The bytes the download button of ``key`` would give (AppTest shows the button, not the file)."""
    made = at.session_state[f"file-{key}"]
    return made[1]


def test_an_offline_web_map_of_one_region_in_russian(page):
    page.radio(key="export-scope").set_value("region").run()
    page.selectbox(key="export-region").set_value(parse_region("KZ-PAV")).run()
    page.selectbox(key="export-lang").set_value("ru").run()
    page.button(key="make-html").click().run()
    assert not page.exception and not page.error
    html = download(page, "html").decode("utf-8")
    assert "<script src=" not in html and "Объекты исторического загрязнения" in html
    assert "Павлодар" in html


def test_a_data_workbook_of_the_whole_country(page):
    page.selectbox(key="export-data-format").set_value("xlsx").run()
    page.button(key="make-data-xlsx").click().run()
    assert not page.exception and not page.error
    sheet = load_workbook(io.BytesIO(download(page, "data-xlsx"))).active
    codes = [row[0] for row in sheet.iter_rows(min_row=9, values_only=True) if row[0]]
    assert len(codes) == demo_site_count()


def test_a_printed_map_of_chosen_sites(page):
    page.radio(key="export-scope").set_value("sites").run()
    page.multiselect(key="export-sites").set_value(["KZ-PAV-0001", "KZ-KAR-0001"]).run()
    page.button(key="make-print-pdf-a4-landscape").click().run()
    assert not page.exception and not page.error
    assert download(page, "print-pdf-a4-landscape").startswith(b"%PDF")


def test_the_public_view_is_told_to_sign_in_for_reports(page):
    assert not any(button.key == "make-priorities" for button in page.button)
    assert any("sign in" in info.value for info in page.info)


def test_a_signed_in_planner_makes_a_passport_a_priority_list_and_a_convention_summary(page, demo_url):
    from gis.db import make_engine

    from gis.scoring import rescore
    from gis.services import Register

    engine = make_engine(demo_url)
    add_test_user(engine, "exports-planner", "planner")
    rescore(engine, Register(engine).actor())  # the priority list ranks scored sites
    engine.dispose()
    sign_in(page, "exports-planner")
    page.switch_page("ui/exports_page.py").run()
    page.selectbox(key="report-site").set_value("KZ-KAR-0001").run()
    page.button(key="make-passport-KZ-KAR-0001").click().run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    page.button(key="make-priorities").click().run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    page.selectbox(key="report-conventions-format").set_value("csv").run()
    page.button(key="make-conventions-csv").click().run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    assert download(page, "passport-KZ-KAR-0001").startswith(b"%PDF")
    assert download(page, "priorities").startswith(b"%PDF")
    assert "KZ-KAR-0001" in download(page, "conventions-csv").decode("utf-8-sig")
