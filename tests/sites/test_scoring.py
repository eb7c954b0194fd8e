"""The default screening method on plain inputs: explanation adds up, monotone, honest about gaps."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings, strategies as st

from sites.scoring.method import Exposure, Result, SiteInputs, Substance, score_site
from sites.scoring.tables import FACTORS, value

ALL_LAYERS = frozenset({"settlement", "river", "well", "school", "kindergarten"})
MERCURY = Substance("hg", "mercury", "metal", False, "soil", True, 10.0)


def site(**overrides) -> SiteInputs:
    base = SiteInputs(
        code="KZ-PAV-0001", activity="chemical_plant", containment="poor", location_precision="facility",
        waste_mass_t=5000.0, substances=(MERCURY,),
        results=(Result("hg", "soil", 50.0, guideline=2.1),),
        exposure=Exposure(ring_population=(0, 500, 2000, 10000, 0, 0), settlements=(("Pavlodar", 330000, 1.2),),
                          surface_water_km=1.0, surface_water_name="Irtysh", layers=ALL_LAYERS),
    )
    return replace(base, **overrides)


def test_parts_add_up_to_the_total_and_carry_their_data():
    score = score_site(site(), "kz_pdk_soil")
    parts = score.explanation["parts"]
    assert sum(p["contribution"] for p in parts) == pytest.approx(score.total, abs=0.01)
    soil = next(p for p in parts if p["pathway"] == "soil")
    likelihood = soil["factors"][0]
    assert likelihood["kind"] == "observed" and "23.8x" in likelihood["data"]
    assert "Pavlodar" in " ".join(soil["factors"][2]["data"])
    assert score.method == "kz-screening" and score.guideline_set == "kz_pdk_soil"


def test_single_pathway_gives_half_its_score_like_the_hrs():
    score = score_site(site(), "kz_pdk_soil")
    assert score.total <= max(score.pathways.values())
    assert score.total >= max(score.pathways.values()) / 2


def test_result_below_detection_never_shows_a_release():
    below = site(results=(Result("hg", "soil", 5.0, qualifier="<", detection_limit=5.0, guideline=2.1),))
    soil = next(p for p in score_site(below, "s").explanation["parts"] if p["pathway"] == "soil")
    assert soil["factors"][0]["kind"] == "potential"


def test_too_many_unknowns_give_class_i_with_next_steps():
    bare = site(substances=(), results=(), containment="unknown", waste_mass_t=None,
                location_precision="settlement", exposure=Exposure(layers=frozenset()))
    score = score_site(bare, "s")
    assert score.priority_class == "I" and score.confidence < 0.7
    assert "concentrations_measured" in score.explanation["missing"]
    assert any("sampl" in step for step in score.explanation["next_steps"])


def test_well_informed_site_gets_a_scored_class():
    score = score_site(site(), "s")
    assert score.priority_class in ("1", "2", "3", "N") and score.confidence == 1.0


@pytest.mark.parametrize("total, expected", [(60, "1"), (28.5, "1"), (28.4, "2"), (15, "2"), (7.5, "3"), (7.4, "N")])
def test_class_thresholds(total, expected):
    from sites.scoring.method import _class

    assert _class(total, 1.0) == expected


people = st.floats(min_value=0, max_value=2e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(rings=st.lists(people, min_size=6, max_size=6), extra=people, ring=st.integers(0, 5))
def test_more_people_nearer_never_lowers_the_score(rings, extra, ring):
    before = score_site(site(exposure=replace(site().exposure, ring_population=tuple(rings))), "s").total
    more = list(rings)
    more[ring] += extra
    after = score_site(site(exposure=replace(site().exposure, ring_population=tuple(more))), "s").total
    assert after >= before - 1e-9


@settings(max_examples=60, deadline=None)
@given(low=st.floats(0, 1e5, allow_nan=False), factor=st.floats(1, 1e3, allow_nan=False),
       medium=st.sampled_from(["soil", "groundwater", "sediment", "waste", "air"]))
def test_higher_concentration_never_lowers_the_score(low, factor, medium):
    def total(concentration):
        return score_site(site(results=(Result("hg", medium, concentration, guideline=2.1),)), "s").total

    assert total(low * factor) >= total(low) - 1e-9


@settings(max_examples=60, deadline=None)
@given(drop=st.sets(st.sampled_from(["substances", "results", "containment", "waste", "precision", "layers"])))
def test_removing_data_never_raises_confidence(drop):
    full = site()
    fewer = replace(
        full,
        substances=() if "substances" in drop else full.substances,
        results=() if "results" in drop else full.results,
        containment="unknown" if "containment" in drop else full.containment,
        waste_mass_t=None if "waste" in drop else full.waste_mass_t,
        location_precision="settlement" if "precision" in drop else full.location_precision,
        exposure=replace(full.exposure, layers=frozenset()) if "layers" in drop else full.exposure,
    )
    assert score_site(fewer, "s").confidence <= score_site(full, "s").confidence


def test_children_and_women_are_shown_separately():
    exposure = replace(site().exposure, sensitive={"school": 2, "maternity": 1})
    score = score_site(site(exposure=exposure), "s")
    assert score.explanation["children_exposure"]["school"] == 2
    assert score.explanation["women_exposure"]["maternity"] == 1
    without = score_site(site(), "s")
    assert score.total >= without.total


def test_every_declared_factor_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "scoring.md").read_text(encoding="utf-8")
    missing = [f.name for f in FACTORS if f"`{f.name}`" not in doc]
    assert not missing, f"docs/scoring.md does not explain: {missing}"


def test_declared_factors_have_units_tags_and_sources():
    for factor in FACTORS:
        assert factor.unit and factor.source and factor.help and factor.tag in ("V", "P", "U"), factor.name
    assert value("class_thresholds")["1"] == 28.5


@settings(max_examples=80, deadline=None)
@given(d=st.floats(0, 30), r=st.floats(0.1, 20), x=st.floats(0, 10), more=st.floats(0, 10))
def test_disk_share_is_a_share_and_grows_with_distance(d, r, x, more):
    from sites.scoring.spread import disk_share

    assert 0.0 <= disk_share(d, r, x) <= 1.0
    assert disk_share(d, r, x + more) >= disk_share(d, r, x) - 1e-9


def test_disk_share_edge_cases():
    from sites.scoring.spread import disk_share, settlement_radius_km

    assert disk_share(0, 1, 2) == 1.0 and disk_share(5, 1, 2) == 0.0
    assert disk_share(0, 2, 1) == pytest.approx(0.25)
    assert disk_share(2, 1, 2) == pytest.approx(0.5, abs=0.1)  # the site circle passes through the disk's centre
    assert settlement_radius_km(330_000, 2500) == pytest.approx(6.48, abs=0.01)
    assert settlement_radius_km(0, 2500) == 0.1
