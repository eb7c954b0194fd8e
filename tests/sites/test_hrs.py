"""The HRS screening arithmetic against every worked example and boundary in SCORING-SOURCES.md."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from sites.errors import InvalidInput
from sites.scoring import hrs

NAN = float("nan")
INF = float("inf")


# --- worked examples (SCORING-SOURCES.md, "US Hazard Ranking System") -------------------------------------------

@pytest.mark.parametrize("scores", [
    [57, 0, 0, 0],
    [0, 0, 57, 0],
    [50, math.sqrt(749), 0, 0],
    {"groundwater": 50, "surface_water": 0, "soil": 0, "air": math.sqrt(749)},
], ids=["single-57", "single-57-soil", "50-and-sqrt749", "mapping-50-and-sqrt749"])
def test_worked_examples_reach_the_npl_threshold(scores):
    score = hrs.site_score(scores)
    assert score == pytest.approx(28.50, abs=1e-9)
    assert round(score, 2) >= hrs.NPL_ELIGIBILITY


def test_north_carolina_example():
    assert round(hrs.site_score((40, 30, 0, 10)), 2) == 25.50


def test_npl_eligibility_threshold():
    assert hrs.NPL_ELIGIBILITY == 28.50


def test_arsenic_waste_characteristics_example():
    product = hrs.waste_characteristics_product(10_000, 1, 100)
    assert product == 1e6
    assert hrs.waste_characteristics_factor(product) == 32


@pytest.mark.parametrize("people, cell, factor", [
    (950, 167, 17),    # 167 x 0.1 = 16.7 -> 17
    (1_300, 523, 52),  # 523 x 0.1 = 52.3 -> 52
])
def test_potential_contamination_examples_at_0_6_miles(people, cell, factor):
    assert hrs.distance_weighted_population(people, 0.6) == cell
    assert hrs.potential_contamination_factor([(people, 0.6)]) == factor


def test_level_i_level_ii_and_potential_example():
    rings = [(3_241, 0.75), (3_241, 1.5), (8_052, 2.5)]
    assert [hrs.distance_weighted_population(p, d) for p, d in rings] == [1_669, 939, 678]
    potential = hrs.potential_contamination_factor(rings)  # 0.1 x 3,286 = 328.6 -> 329
    assert potential == 329
    assert 10 * 4 == 40 and hrs.population_factor(4, 0, 0) == 40
    assert hrs.population_factor(4, 7, potential) == 376


# --- distance-weighted population --------------------------------------------------------------------------------

@pytest.mark.parametrize("people, miles, value", [
    (301, 0.51, 167), (1_000, 1.0, 167),
    (1_001, 0.51, 523), (3_000, 1.0, 523),
    (3_001, 0.51, 1_669), (10_000, 1.0, 1_669),
    (3_001, 1.01, 939), (10_000, 2.0, 939),
    (3_001, 2.01, 678), (10_000, 3.0, 678),
])
def test_every_verified_cell_is_reproduced_at_its_category_edges(people, miles, value):
    assert hrs.distance_weighted_population(people, miles) == value


def test_verified_cells_are_declared_and_all_reproduced():
    assert len(hrs.VERIFIED_CELLS) == 5
    rings = {ring.label: ring for ring in hrs.RINGS}
    categories = {category.label: category for category in hrs.CATEGORIES}
    for (ring, category), value in hrs.VERIFIED_CELLS.items():
        assert hrs.distance_weighted_population(categories[category].upper, rings[ring].outer_miles) == value


@pytest.mark.parametrize("miles, value", [
    (0, 5_214), (0.25, 5_214),
    (0.2501, 3_233), (0.5, 3_233),
    (0.5001, 1_669), (1.0, 1_669),
    (1.0001, 939), (2.0, 939),
    (2.0001, 678), (3.0, 678),
    (3.0001, 417), (4.0, 417),
    (4.0001, 0), (25, 0),
])
def test_rings_are_closed_at_their_outer_edge_and_stop_at_4_miles(miles, value):
    assert hrs.distance_weighted_population(5_000, miles) == value


@pytest.mark.parametrize("people, value", [
    (0, 0), (0.4, 0), (0.5, 1), (10, 1), (11, 5), (300, 52), (301, 167), (1_000, 167), (1_001, 523),
])
def test_population_categories_at_half_to_one_mile(people, value):
    assert hrs.distance_weighted_population(people, 0.75) == value


@pytest.mark.parametrize("miles, value", [(0.1, 4), (0.3, 2), (0.75, 1), (1.5, 0.7), (2.5, 0.5), (3.5, 0.3)])
def test_derived_small_cells_keep_one_decimal_below_one(miles, value):
    assert hrs.distance_weighted_population(5, miles) == value


def test_declared_tags_are_the_scoring_sources_tags():
    tags = {c.source for c in hrs.CATEGORIES} | {r.source for r in hrs.RINGS} | {f.source for f in hrs.FACTORS}
    assert tags <= {"[V]", "[P]", "[U]"}
    assert [float(ring.weight) for ring in hrs.RINGS] == [1.0, 0.62, 0.32, 0.18, 0.13, 0.08]


# --- potential contamination and population factors --------------------------------------------------------------

@pytest.mark.parametrize("rings, factor", [
    ([], 0),
    ([(8_000, 4.5)], 0),                           # beyond 4 miles
    ([(5, 0.75)], 0.1),                            # 1 x 0.1: below 1, not rounded
    ([(1, 3.5)], pytest.approx(0.03)),             # 0.3 x 0.1: below 1, not rounded
    ([(20, 0.4), (200, 3.5), (5, 0.75)], 3),       # 0.1 x (11 + 13 + 1) = 2.5 -> 3, halves up
    ([(600, 0.6), (600, 0.9)], 52),                # one ring: 1,200 people -> 523, not 2 x 167
    ([(600, 0.6), (600, 1.5)], 26),                # two rings: 0.1 x (167 + 94) = 26.1 -> 26
])
def test_potential_contamination_factor(rings, factor):
    assert hrs.potential_contamination_factor(rings) == factor


@pytest.mark.parametrize("level_i, level_ii, potential, factor", [
    (4, 7, 329, 376), (0, 0, 0, 0), (1, 0, 0, 10), (0, 1, 0, 1), (0, 0, 0.03, 0.03),
])
def test_population_factor(level_i, level_ii, potential, factor):
    assert hrs.population_factor(level_i, level_ii, potential) == pytest.approx(factor)


# --- waste characteristics ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("product, factor", [
    (0, 0), (1e-9, 1), (9.999, 1), (10, 2), (99.99, 2), (100, 3), (999.9, 3), (1_000, 6), (9_999, 6),
    (1e4, 10), (99_999, 10), (1e5, 18), (999_999, 18), (1e6, 32), (9_999_999, 32), (1e7, 56), (99_999_999, 56),
    (1e8, 100), (1e12, 100),
])
def test_waste_characteristics_lookup_boundaries(product, factor):
    assert hrs.waste_characteristics_factor(product) == factor


@pytest.mark.parametrize("args, bioaccumulation, product", [
    ((10_000, 1, 100), None, 1e6),
    ((10_000, 1, 1_000_000), None, 1e8),           # 1e10 capped at 1e8
    ((10_000, 1, 10_000), None, 1e8),              # exactly at the cap
    ((10_000, 1, 1_000_000), 50, 5e9),             # capped at 1e8 first, then x 50
    ((10_000, 1, 1_000_000), 50_000, 1e12),        # 5e12 capped at 1e12
    ((10, 1, 10), 1, 100),
    ((0, 1, 10_000), 5, 0),
])
def test_waste_characteristics_product_caps(args, bioaccumulation, product):
    assert hrs.waste_characteristics_product(*args, bioaccumulation=bioaccumulation) == product


def test_no_hazardous_waste_quantity_table_is_invented():
    assert not hasattr(hrs, "hazardous_waste_quantity_factor")


# --- pathway score -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("likelihood, wc, targets, score", [
    (550, 100, 150, 100), (550, 100, 10_000, 100), (0, 100, 500, 0), (550, 32, 10, 550 * 32 * 10 / 82_500),
    (275, 32, 376, 275 * 32 * 376 / 82_500),
])
def test_pathway_score(likelihood, wc, targets, score):
    assert hrs.pathway_score(likelihood, wc, targets) == pytest.approx(score)


# --- soil exposure hazardous waste quantity ----------------------------------------------------------------------

@pytest.mark.parametrize("amounts, value", [
    ({}, 0),
    ({"contaminated_soil_ft2": 34_000}, 1),
    ({"landfill_ft2": 68_000}, 2),
    ({"pile_ft2": 34}, 1),
    ({"surface_impoundment_ft2": 13}, 1),
    ({"land_treatment_ft2": 270}, 1),
    ({"drums_gallons": 500}, 1),
    ({"pile_ft2": 1}, 1),                                    # 1/34 is in (0, 1) -> 1
    ({"contaminated_soil_ft2": 51_000}, 1.5),                # no other rounding
    ({"contaminated_soil_ft2": 17_000, "pile_ft2": 17}, 1),  # 0.5 + 0.5
    ({"surface_impoundment_ft2": 13e7}, 1_000_000),          # 1e7 capped
])
def test_soil_waste_quantity(amounts, value):
    assert hrs.soil_waste_quantity(**amounts) == pytest.approx(value)


# --- properties --------------------------------------------------------------------------------------------------

SCORES = st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=4, max_size=4)


@given(SCORES)
def test_site_score_never_exceeds_the_highest_pathway_score(scores):
    assert hrs.site_score(scores) <= max(scores)


@given(SCORES)
def test_site_score_is_at_least_half_the_highest_and_ignores_order(scores):
    score = hrs.site_score(scores)
    assert score >= max(scores) / 2 * (1 - 1e-12)
    assert hrs.site_score(list(reversed(scores))) == pytest.approx(score)
    assert hrs.site_score(dict(zip(hrs.PATHWAYS, scores))) == score


@given(st.floats(0, 550), st.floats(0, 100), st.floats(0, 1e9))
def test_pathway_score_stays_within_0_and_100(likelihood, wc, targets):
    assert 0 <= hrs.pathway_score(likelihood, wc, targets) <= 100


# --- refusals ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scores, field", [
    ([1, 2, 3], "pathway_scores"),
    ([1, 2, 3, 4, 5], "pathway_scores"),
    ("abcd", "pathway_scores"),
    (None, "pathway_scores"),
    (57, "pathway_scores"),
    ({"groundwater": 57}, "pathway_scores"),
    ({"groundwater": 1, "surface_water": 1, "soil": 1, "air": 1, "noise": 1}, "pathway_scores"),
    ([-1, 0, 0, 0], "groundwater"),
    ([0, 100.01, 0, 0], "surface_water"),
    ([0, 0, NAN, 0], "soil"),
    ([0, 0, 0, INF], "air"),
    ([0, 0, 0, True], "air"),
    ([0, 0, 0, "5"], "air"),
    ({"groundwater": 0, "surface_water": 0, "soil": 0, "air": 200}, "air"),
])
def test_site_score_refuses(scores, field):
    with pytest.raises(InvalidInput) as error:
        hrs.site_score(scores)
    assert error.value.field == field


@pytest.mark.parametrize("args, field", [
    ((551, 100, 1), "likelihood"),
    ((-1, 100, 1), "likelihood"),
    ((NAN, 100, 1), "likelihood"),
    ((550, 101, 1), "waste_characteristics"),
    ((550, -0.5, 1), "waste_characteristics"),
    ((550, 100, -1), "targets"),
    ((550, 100, INF), "targets"),
    ((550, 100, None), "targets"),
])
def test_pathway_score_refuses(args, field):
    with pytest.raises(InvalidInput) as error:
        hrs.pathway_score(*args)
    assert error.value.field == field


@pytest.mark.parametrize("call, field", [
    (lambda: hrs.waste_characteristics_factor(-1), "product"),
    (lambda: hrs.waste_characteristics_factor(NAN), "product"),
    (lambda: hrs.waste_characteristics_factor(INF), "product"),
    (lambda: hrs.waste_characteristics_product(-1, 1, 1), "toxicity"),
    (lambda: hrs.waste_characteristics_product(1, NAN, 1), "mobility_or_persistence"),
    (lambda: hrs.waste_characteristics_product(1, 1, "100"), "quantity_factor"),
    (lambda: hrs.waste_characteristics_product(1, 1, 1, bioaccumulation=-5), "bioaccumulation"),
    (lambda: hrs.distance_weighted_population(-1, 0.5), "population"),
    (lambda: hrs.distance_weighted_population(10_000_001, 0.5), "population"),
    (lambda: hrs.distance_weighted_population(NAN, 0.5), "population"),
    (lambda: hrs.distance_weighted_population(100, -0.1), "distance_miles"),
    (lambda: hrs.distance_weighted_population(100, INF), "distance_miles"),
    (lambda: hrs.potential_contamination_factor([(1, 2, 3)]), "rings"),
    (lambda: hrs.potential_contamination_factor("ab"), "rings"),
    (lambda: hrs.potential_contamination_factor(5), "rings"),
    (lambda: hrs.potential_contamination_factor([(-5, 1)]), "population"),
    (lambda: hrs.potential_contamination_factor([(-5, 9)]), "population"),
    (lambda: hrs.potential_contamination_factor([(5, -1)]), "distance_miles"),
    (lambda: hrs.potential_contamination_factor([(6_000_000, 0.6), (6_000_000, 0.9)]), "population"),
    (lambda: hrs.population_factor(-1, 0, 0), "level_i"),
    (lambda: hrs.population_factor(0, NAN, 0), "level_ii"),
    (lambda: hrs.population_factor(0, 0, -329), "potential"),
    (lambda: hrs.soil_waste_quantity(pile_ft2=-1), "pile_ft2"),
    (lambda: hrs.soil_waste_quantity(drums_gallons=NAN), "drums_gallons"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_other_refusals_name_the_field(call, field):
    with pytest.raises(InvalidInput) as error:
        call()
    assert error.value.field == field


def test_module_says_it_is_not_an_official_score():
    first_line = hrs.__doc__.splitlines()[0]
    assert "NOT an official HRS score" in first_line and "Screening aid" in first_line
