"""The planners' ranking page (AppTest on a scored copy of the demo): filters, a site's explanation, the programme,
what-if scenarios saved and loaded back."""

from __future__ import annotations

import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from gis.db import make_engine
from gis.demo import load_demo
from gis.scoring import rescore
from gis.queries import site_attributes
from gis.services import Register
from tests.conftest import ROOT, add_test_user, demo_site_count, sign_in
from tests.gis.test_ranking_filters import load_districts


@pytest.fixture
def page(db_url, monkeypatch, tmp_path):
    engine = make_engine(db_url)
    register = Register(engine)
    load_demo(engine, register.actor())
    load_districts(engine, tmp_path)
    rescore(engine, register.actor())
    site = register.get_site("KZ-PAV-0001")
    register.update_site(register.actor(), "KZ-PAV-0001", site["version"], {"remediation_cost_kzt": 9e9})
    add_test_user(engine, "planner", "planner")  # what-if, stability and the programme are the planners'
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", db_url)
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    sign_in(at.run(), "planner")
    at.switch_page("ui/ranking_page.py").run()
    assert not at.exception, at.exception
    return at


def test_the_ranking_lists_every_site_and_filters_narrow_it(page):
    table = page.dataframe[0].value
    assert len(table) == demo_site_count() and list(table["rank"]) == list(range(1, demo_site_count() + 1))
    page.multiselect(key="r-region").select("Pavlodar").run()
    pavlodar = page.dataframe[0].value
    assert 0 < len(pavlodar) < demo_site_count() and set(pavlodar["region"]) == {"Pavlodar"}
    page.text_input(key="r-contaminant").input("hg").run()
    mercury = page.dataframe[0].value
    assert "KZ-PAV-0001" in set(mercury["code"]) and len(mercury) <= len(pavlodar)
    page.multiselect(key="r-class").select("N").run()
    assert f"of {demo_site_count()} sites" in " ".join(c.value for c in page.caption)


def shown_codes(page) -> set[str]:
    return set(page.dataframe[0].value["code"])


def test_districts_are_those_of_the_chosen_regions_labelled_by_boundary_name(page):
    districts = page.multiselect(key="r-district")
    assert districts.options == ["552210000", "Balkhash city", "Pavlodar city"]  # no region chosen: all, by label
    page.multiselect(key="r-region").select("Pavlodar").run()
    assert page.multiselect(key="r-district").options == ["552210000", "Pavlodar city"]  # unnamed: its KATO code
    page.multiselect(key="r-district").select("551010000").run()
    assert shown_codes(page) == {"KZ-PAV-0001"}
    assert list(page.dataframe[0].value["district"]) == ["Pavlodar city"]
    page.multiselect(key="r-district").select("552210000").run()
    assert shown_codes(page) == {"KZ-PAV-0001", "KZ-PAV-0002", "KZ-PAV-0003"}
    # Another region: its districts only, and the Pavlodar districts chosen before no longer filter.
    page.multiselect(key="r-region").unselect("Pavlodar").select("Karagandy").run()
    assert not page.exception
    assert page.multiselect(key="r-district").options == ["Balkhash city"]
    assert page.multiselect(key="r-district").value == []
    karagandy = page.dataframe[0].value
    assert len(karagandy) > 1 and set(karagandy["region"]) == {"Karagandy"}


def test_a_convention_keeps_the_sites_with_a_contaminant_it_lists(page, db_url):
    engine = make_engine(db_url)
    attributes = {row["code"]: row["conventions"].split(",") for row in site_attributes(engine)}
    engine.dispose()
    page.multiselect(key="r-convention").select("Stockholm").run()
    stockholm = {code for code, conventions in attributes.items() if "Stockholm" in conventions}
    assert 0 < len(stockholm) < demo_site_count() and shown_codes(page) == stockholm
    assert "KZ-PAV-0001" not in stockholm  # mercury: Minamata, not Stockholm
    page.multiselect(key="r-convention").select("Minamata").run()
    assert "KZ-PAV-0001" in shown_codes(page) and stockholm < shown_codes(page)  # either convention


def test_a_sites_explanation_and_history_are_shown(page):
    page.selectbox(key="r-site").select("KZ-PAV-0001").run()
    assert not page.exception
    assert any("KZ-PAV-0001: class" in h.value for h in page.subheader)
    assert any("of the total" in e.label for e in page.expander)
    history = [d.value for d in page.dataframe if "method_version" in d.value.columns]
    assert history and (history[0]["method_version"] == "1.0.0").all() and len(history[0]) == 2  # run, then edit


def test_the_programme_stays_within_the_budget_and_names_what_it_leaves_out(page):
    page.text_input(key="p-budget").input("10 000 000 000").run()
    next(b for b in page.button if b.key == "p-run").click().run()
    assert not page.exception and not page.error
    funded = [d.value for d in page.dataframe if "cost_kzt" in d.value.columns and "reason" not in d.value.columns]
    assert funded and funded[0]["cost_kzt"].sum() <= 10e9 and "KZ-PAV-0001" in set(funded[0]["code"])
    left = [d.value for d in page.dataframe if "reason" in d.value.columns]
    assert left and left[0]["reason"].str.len().gt(0).all()
    assert any("Greedy by rank (funding the ranking from the top):" in c.value for c in page.caption)
    assert {"p-csv", "p-xlsx", "p-gpkg"} <= {b.key for b in page.get("download_button")}
    page.multiselect(key="r-class").select("1").run()  # another widget's rerun keeps the planned programme
    assert any("cost_kzt" in d.value.columns and "reason" not in d.value.columns for d in page.dataframe)
    page.text_input(key="p-budget").input("5e9").run()  # a budget not yet planned hides it
    assert not any("reason" in d.value.columns for d in page.dataframe)


def test_a_bad_budget_is_refused_with_the_value(page):
    page.text_input(key="p-budget").input("ten billion").run()
    next(b for b in page.button if b.key == "p-run").click().run()
    assert "ten billion" in page.error[0].value


def test_the_what_if_view_shows_rank_changes_beside_the_official_ranking(page):
    page.number_input(key="w-population_scale").set_value(10_000.0).run()
    page.number_input(key="w-default_exceedance").set_value(1.0).run()
    next(b for b in page.button if b.key == "w-run").click().run()
    assert not page.exception and not page.error
    comparison = next(d.value for d in page.dataframe if "scenario_rank" in d.value.columns)
    assert len(comparison) == demo_site_count()
    assert (comparison["scenario_total"] != comparison["official_total"]).any()
    assert "2 factor(s) changed" in " ".join(c.value for c in page.caption)
    assert {"w-json", "w-csv", "w-xlsx", "w-gpkg"} <= {b.key for b in page.get("download_button")}


def scenario(**changes) -> bytes:
    document = {"name": "cautious planner", "method": "kz-screening 1.0.0", "date": "2025-05-01",
                "overrides": {"children_weight": 5.0, "default_exceedance": 1.0}}
    return json.dumps({**document, **changes}).encode("utf-8")


def test_a_saved_scenario_loads_back_into_the_factors(page):
    page.file_uploader(key="w-file").upload("cautious.json", scenario(), "application/json").run()
    assert not page.exception and not page.error
    assert page.number_input(key="w-children_weight").value == 5.0
    assert page.number_input(key="w-default_exceedance").value == 1.0
    assert page.number_input(key="w-women_weight").value == 2.0  # not in the file: the declared value
    assert page.text_input(key="w-name").value == "cautious planner"
    assert "Loaded the scenario 'cautious planner' from cautious.json" in page.success[0].value
    next(b for b in page.button if b.key == "w-run").click().run()
    assert "2 factor(s) changed" in " ".join(c.value for c in page.caption)


@pytest.mark.parametrize("changes, message", [
    ({"method": "kz-screening 0.9.0"}, "scenario method: expected kz-screening 1.0.0, the method version whose "
                                       "factors and bounds this register uses, received 'kz-screening 0.9.0'"),
    ({"overrides": {"children_weight": 50}}, "children_weight: expected a value from 1 to 10"),
])
def test_a_scenario_for_another_method_or_out_of_bounds_is_refused(page, changes, message):
    page.number_input(key="w-farmland_bonus").set_value(0.2).run()
    page.file_uploader(key="w-file").upload("old.json", scenario(**changes), "application/json").run()
    assert not page.exception
    assert page.error and "old.json was not loaded: " + message in page.error[0].value
    assert page.number_input(key="w-children_weight").value == 3.0  # nothing from the refused file is applied
    assert page.number_input(key="w-farmland_bonus").value == 0.2


def test_rank_stability_gives_every_site_a_share_of_the_top(page):
    page.number_input(key="mc-draws").set_value(20).run()
    page.number_input(key="mc-top").set_value(5).run()
    next(b for b in page.button if b.key == "mc-run").click().run()
    assert not page.exception
    table = next(d.value for d in page.dataframe if "p_top" in d.value.columns)
    assert len(table) == demo_site_count() and abs(table["p_top"].sum() - 5.0) < 1e-9
