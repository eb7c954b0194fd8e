"""The add/edit page (Streamlit AppTest on a fresh copy of the demo per test): typed coordinates, duplicates, stale
edits, samples, permissions."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from gis.db import make_engine
from gis.demo import load_demo
from gis.services import Register
from tests.conftest import ROOT, add_test_user, sign_in


@pytest.fixture
def register(db_url):
    engine = make_engine(db_url)
    register = Register(engine)
    load_demo(engine, register.actor())
    add_test_user(engine, "aliya", "inspector", ["KZ-ALA"])
    add_test_user(engine, "editor", "admin")  # edits anywhere, as the pages' users did before sign-in
    yield register
    engine.dispose()


@pytest.fixture
def page(db_url, register, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    sign_in(at.run(), "editor")
    at.switch_page("ui/edit_page.py").run()
    assert not at.exception, at.exception
    return at


def button(at, label):
    return next(b for b in at.button if b.label.startswith(label))


def texts(elements) -> str:
    return " | ".join(str(e.value) for e in elements)


def test_a_site_is_added_from_typed_degrees_minutes_seconds(page, register):
    before = len(register.site_codes())
    page.text_input(key="new-coords").input("""47°06'30"N 51°55'00"E""").run()
    assert "47.108333 N, 51.916667 E" in texts(page.caption)
    page.text_input(key="new-name_en").input("Abandoned pesticide store near Atyrau").run()
    page.selectbox(key="new-activity").select("pesticide_store").run()
    page.selectbox(key="new-region_kato").select("230000000").run()  # no boundaries in the demo: the inspector says
    button(page, "Save the new site").click().run()
    assert not page.exception and not page.error, texts(page.error)
    assert "Saved KZ-ATY-" in texts(page.success)
    assert len(register.site_codes()) == before + 1


def test_unreadable_coordinates_are_explained_and_nothing_is_placed(page):
    page.text_input(key="new-coords").input("somewhere near Pavlodar").run()
    assert "Could not read the coordinates" in texts(page.error)
    assert "No point yet" in texts(page.caption)


def test_a_site_next_to_a_stored_one_must_be_confirmed_before_saving(page, register):
    stored = register.get_site("KZ-PAV-0001")
    before = len(register.site_codes())
    page.text_input(key="new-coords").input(f"{stored['lat'] + 0.001:.5f}, {stored['lon']:.5f}").run()
    page.text_input(key="new-name_en").input("Chlor-alkali plant").run()
    page.selectbox(key="new-region_kato").select("550000000").run()
    assert "KZ-PAV-0001" in str(page.table[0].value)
    assert button(page, "Save the new site").disabled
    choice = next(r for r in page.radio if r.key.startswith("new-dup-choice-"))
    choice.set_value("link:KZ-PAV-0001").run()
    button(page, "Save the new site").click().run()
    assert "Saved KZ-PAV-" in texts(page.success)
    newest = max(c for c in register.site_codes() if c.startswith("KZ-PAV-"))
    assert len(register.site_codes()) == before + 1
    assert "KZ-PAV-0001" in register.get_site(newest)["location_note"]


def test_a_stale_form_is_refused_with_the_difference_and_nothing_overwritten(page, register):
    page.radio(key="mode").set_value("Edit a site").run()
    page.selectbox(key="site-code").select("KZ-PAV-0002").run()
    loaded = register.get_site("KZ-PAV-0002")
    register.update_site(register.actor(), "KZ-PAV-0002", loaded["version"], {"operator": "Someone else's edit"})
    page.text_input(key="edit-name_en").input("My renamed ash dump").run()
    button(page, "Save changes").click().run()
    assert "changed by someone else" in texts(page.error)
    assert "Someone else's edit" in str(page.table[0].value)
    now = register.get_site("KZ-PAV-0002")
    assert now["name_en"] == loaded["name_en"] and now["operator"] == "Someone else's edit"
    button(page, "Load the current version").click().run()
    assert page.text_input(key="edit-operator").value == "Someone else's edit"


def test_a_sample_shows_its_exceedance_before_it_is_saved(page, register):
    page.radio(key="mode").set_value("Edit a site").run()
    page.selectbox(key="site-code").select("KZ-PAV-0002").run()
    page.selectbox(key="s-KZ-PAV-0002-contaminant").select("hg").run()
    page.text_input(key="s-KZ-PAV-0002-value").input("4,2").run()
    assert "2.00 × the guideline value 2.1 mg/kg" in texts(page.error)
    page.text_input(key="s-KZ-PAV-0002-unit").input("mg/L").run()
    assert "a unit for soil" in texts(page.error)
    page.text_input(key="s-KZ-PAV-0002-unit").input("мг/кг").run()
    button(page, "Add sample").click().run()
    assert "Sample added: hg in soil, 4,2 мг/кг." in texts(page.success)
    assert page.text_input(key="s-KZ-PAV-0002-value").value == ""  # emptied: a second click cannot store it twice
    samples = [d.value for d in page.dataframe if "contaminant" in d.value.columns]
    assert samples and ((samples[0]["contaminant"] == "hg") & (samples[0]["value"] == 4.2)).any()


def test_saving_an_untouched_form_changes_no_number(page, register):
    site = register.get_site("KZ-PAV-0002")
    register.update_site(register.actor(), "KZ-PAV-0002", site["version"], {"waste_mass_t": 1234567.0,
                                                                            "area_ha": 12.3456789})
    page.radio(key="mode").set_value("Edit a site").run()
    page.selectbox(key="site-code").select("KZ-PAV-0002").run()
    button(page, "Save changes").click().run()
    stored = register.get_site("KZ-PAV-0002")
    assert (stored["waste_mass_t"], stored["area_ha"]) == (1234567.0, 12.3456789)


def test_a_gauss_kruger_reading_is_kept_in_the_location_note(page, register):
    page.text_input(key="new-coords").input("X=5795000 Y=13512000").run()
    page.text_input(key="new-name_en").input("Sludge pond read off a 1:100 000 sheet").run()
    page.selectbox(key="new-region_kato").select("550000000").run()
    button(page, "Save the new site").click().run()
    code = texts(page.success).split()[1].rstrip(".")
    assert "X=5795000 Y=13512000 (gk, EPSG:28413)" in register.get_site(code)["location_note"]


def test_an_inspector_cannot_save_a_site_of_another_region(page, register):
    page.button(key="sign-out").click().run()
    sign_in(page, "aliya")
    page.switch_page("ui/edit_page.py").run()
    page.radio(key="mode").set_value("Edit a site").run()
    page.selectbox(key="site-code").select("KZ-PAV-0002").run()
    page.text_input(key="edit-operator").input("Not my region").run()
    button(page, "Save changes").click().run()
    assert "Not saved" in texts(page.error) and "may edit sites only in their regions" in texts(page.error)
    assert register.get_site("KZ-PAV-0002")["operator"] != "Not my region"
