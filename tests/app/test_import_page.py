"""The import page reads an upload and checks its rows once, not on every click; a change to the register (the
import itself) makes it check again."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from gis import site_import
from gis.db import make_engine
from tests.conftest import ROOT, add_test_user, sign_in

CSV = ("name_en;lat;lon;activity;location_precision\n"
       "Pesticide store near Aksu;52,04;76,93;pesticide_store;settlement\n"
       "Swapped coordinates;76,95;52,29;other;approximate\n")


@pytest.fixture
def page(demo_url, monkeypatch):
    engine = make_engine(demo_url)
    add_test_user(engine, "import-admin", "admin")
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", demo_url)
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    sign_in(at, "import-admin")
    at.switch_page("ui/import_page.py").run()
    return at


@pytest.fixture
def calls(monkeypatch):
    """How often the page really read a file and checked its rows (the real functions still do the work)."""
    counted = {"read": 0, "preview": 0}
    read, preview = site_import.read_table, site_import.preview

    def counting_read(*args, **kwargs):
        counted["read"] += 1
        return read(*args, **kwargs)

    def counting_preview(*args, **kwargs):
        counted["preview"] += 1
        return preview(*args, **kwargs)

    monkeypatch.setattr(site_import, "read_table", counting_read)
    monkeypatch.setattr(site_import, "preview", counting_preview)
    return counted


def test_reruns_reuse_the_read_file_and_its_check_until_the_register_changes(page, calls):
    page.file_uploader(key="import-file").upload("sites.csv", CSV.encode("utf-8"), "text/csv").run()
    assert not page.exception, page.exception
    assert calls == {"read": 1, "preview": 1}
    page.run()
    page.run()
    assert calls == {"read": 1, "preview": 1}
    page.button(key="import-valid").click().run()
    assert not page.exception, page.exception
    assert any("1" in s.value for s in page.success)
    page.run()  # the register changed: the same file is checked again, and its valid row is now unchanged
    assert calls["read"] == 1 and calls["preview"] == 2
    assert page.button(key="import-valid").disabled
