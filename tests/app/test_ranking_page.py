"""The planners' ranking page (AppTest on a scored copy of the demo): filters, a site's explanation, the programme."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from gis.db import make_engine
from gis.demo import load_demo
from gis.scoring import rescore
from gis.services import Register
from tests.conftest import ROOT, demo_site_count


@pytest.fixture
def page(db_url, monkeypatch):
    engine = make_engine(db_url)
    register = Register(engine)
    load_demo(engine, register.actor())
    rescore(engine, register.actor())
    site = register.get_site("KZ-PAV-0001")
    register.update_site(register.actor(), "KZ-PAV-0001", site["version"], {"remediation_cost_kzt": 9e9})
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", db_url)
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
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


def test_rank_stability_gives_every_site_a_share_of_the_top(page):
    page.number_input(key="mc-draws").set_value(20).run()
    page.number_input(key="mc-top").set_value(5).run()
    next(b for b in page.button if b.key == "mc-run").click().run()
    assert not page.exception
    table = next(d.value for d in page.dataframe if "p_top" in d.value.columns)
    assert len(table) == demo_site_count() and abs(table["p_top"].sum() - 5.0) < 1e-9
