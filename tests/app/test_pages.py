"""Every page renders against the demo database without an exception (Streamlit AppTest)."""

from __future__ import annotations

import json
import re

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sites.regions import parse_region
from tests.conftest import ROOT, demo_site_count


@pytest.fixture
def app(demo_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_url)
    st.cache_resource.clear()  # engines are cached per process; each module has its own database
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_map_page_embeds_every_site(app):
    assert app.title[0].value == "Legacy pollution sites of Kazakhstan"
    assert f"{demo_site_count()} sites in the register" in app.caption[0].value
    maps = [c for c in app.get("component_instance") if "script" in c.proto.json_args]
    assert maps, "the map component is missing"
    script = json.loads(maps[0].proto.json_args)["script"]
    data = json.loads(re.search(r"var data = (\{.*?\});\n", script).group(1))
    assert len(data["rows"]) == demo_site_count()
    assert "Settlements: GeoNames cities500" in app.caption[-1].value and "CC BY 4.0" in app.caption[-1].value


def test_sites_page_lists_and_filters(app):
    app.switch_page("ui/sites_page.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert len(table) == demo_site_count()
    app.multiselect[0].select("Pavlodar").run()
    filtered = app.dataframe[0].value
    assert 0 < len(filtered) < demo_site_count() and set(filtered["region"]) == {"Pavlodar"}


def test_about_page_credits_loaded_layers(app):
    app.switch_page("ui/about_page.py").run()
    assert not app.exception
    assert "GeoNames" in str(app.table[0].value)


def test_the_map_can_be_narrowed_to_regions(app):
    assert any("Pavlodar" in option for option in app.multiselect(key="map-regions").options)
    app.multiselect(key="map-regions").select(parse_region("KZ-PAV")).run()
    assert not app.exception
    caption = app.caption[0].value
    shown, total = (int(n.replace(",", "")) for n in caption.split(" sites shown")[0].split(" of "))
    assert 0 < shown < total == demo_site_count()
    maps = [c for c in app.get("component_instance") if "script" in c.proto.json_args]
    script = json.loads(maps[0].proto.json_args)["script"]
    data = json.loads(re.search(r"var data = (\{.*?\});\n", script).group(1))
    assert len(data["rows"]) == shown
