"""The remediation programme on plain values: optimal as brute force, within budget, never worse than greedy."""

from __future__ import annotations

import doctest
import itertools
import math
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import sites.programme as programme
from sites.errors import InvalidInput
from sites.programme import (
    FACTORS, NO_BENEFIT, OVER_BUDGET, Candidate, check_budget, choose_greedy, choose_optimal, people_protected,
    risk_reduction, site_cost,
)
from sites.scoring.method import Exposure, SiteInputs, score_site


def brute_force(candidates: list[Candidate], budget: float) -> float:
    """The largest total benefit of any subset within the budget, by trying every subset."""
    best = 0.0
    for taken in itertools.product((False, True), repeat=len(candidates)):
        chosen = [c for c, take in zip(candidates, taken) if take]
        if sum(c.cost_kzt for c in chosen) <= budget:
            best = max(best, math.fsum(c.benefit for c in chosen))
    return best


def check_selection(selection, candidates: list[Candidate], budget: float) -> None:
    """What every selection promises: within budget, nothing lost, and every left-out reason true."""
    assert selection.total_cost_kzt <= budget
    assert sorted(selection.codes + tuple(o.candidate.code for o in selection.left_out)) == sorted(
        c.code for c in candidates)
    assert all(c.benefit > 0 for c in selection.chosen)
    for out in selection.left_out:
        if out.reason == OVER_BUDGET:
            assert out.candidate.cost_kzt > selection.remaining_kzt and out.candidate.benefit > 0
        else:
            assert out.reason == NO_BENEFIT and out.candidate.benefit == 0


def near(a: float, b: float) -> bool:
    """Equal within the stated solver tolerance: 1e-6 person-equivalents (plus float rounding of the sums)."""
    return abs(a - b) <= 1e-6 + 1e-9 * max(abs(a), abs(b))


@st.composite
def cases(draw, scale: int = 1):
    """Up to 10 candidates (1,024 subsets); benefits drawn from few values so that ties are common."""
    count = draw(st.integers(0, 10))
    costs = draw(st.lists(st.integers(0, 100), min_size=count, max_size=count))
    odd_tenge = draw(st.lists(st.integers(0, 10**6 if scale > 1 else 0), min_size=count, max_size=count))
    benefits = draw(st.lists(st.one_of(st.sampled_from([0.0, 1.0, 2.5, 7.0]), st.floats(0, 1e4)),
                             min_size=count, max_size=count))
    candidates = [Candidate(f"S{i}", cost * scale + odd, benefit)
                  for i, (cost, odd, benefit) in enumerate(zip(costs, odd_tenge, benefits))]
    # A budget equal to a subset's cost, one tenge off it, or anything: the edges are where rounding would show.
    subset = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    exact = sum(c.cost_kzt for c, take in zip(candidates, subset) if take)
    budget = draw(st.one_of(st.just(exact), st.just(exact - 1), st.just(exact + 1), st.integers(1, 600 * scale)))
    return candidates, max(budget, 1)


@settings(max_examples=300, deadline=None)
@given(case=cases())
def test_optimal_matches_brute_force_and_beats_greedy(case):
    candidates, budget = case
    optimal = choose_optimal(candidates, budget)
    check_selection(optimal, candidates, budget)
    assert near(optimal.total_benefit, brute_force(candidates, budget))
    for order in ("rank", "ratio"):
        greedy = choose_greedy(candidates, budget, order=order)
        check_selection(greedy, candidates, budget)
        assert optimal.total_benefit >= greedy.total_benefit


@settings(max_examples=150, deadline=None)
@given(case=cases(scale=10**10))
def test_exact_in_whole_tenge_at_national_magnitudes(case):
    """Costs of up to a trillion tenge, not round, and budgets one tenge either side of a subset's cost."""
    candidates, budget = case
    optimal = choose_optimal(candidates, budget)
    check_selection(optimal, candidates, budget)
    assert near(optimal.total_benefit, brute_force(candidates, budget))
    assert optimal.total_benefit >= choose_greedy(candidates, budget).total_benefit


def test_greedy_by_rank_can_be_far_from_optimal():
    sites = [Candidate("A", 60, 10.0), Candidate("B", 50, 8.0), Candidate("C", 50, 8.0)]
    assert choose_greedy(sites, 100).codes == ("A",)
    assert choose_optimal(sites, 100).codes == ("B", "C")
    assert choose_optimal(sites, 100).total_benefit == 16.0


def test_greedy_by_rank_follows_the_ranking_not_the_ratio():
    sites = [Candidate("A", 90, 10.0), Candidate("B", 10, 5.0), Candidate("C", 20, 4.0)]
    assert choose_greedy(sites, 100).codes == ("A", "B")
    assert choose_greedy(sites, 100, order="ratio").codes == ("B", "C")
    assert choose_greedy(sites, 100).left_out[0].reason == OVER_BUDGET


def test_ties_give_one_of_the_equal_answers():
    sites = [Candidate(f"T{i}", 40, 5.0) for i in range(4)]
    chosen = choose_optimal(sites, 100)
    assert len(chosen.chosen) == 2 and chosen.total_cost_kzt == 80 and chosen.remaining_kzt == 20
    assert all(o.reason == OVER_BUDGET for o in chosen.left_out)


def test_sites_that_reduce_no_risk_are_never_bought():
    sites = [Candidate("Z", 0, 0.0), Candidate("Y", 10, 0.0), Candidate("A", 10, 1.0)]
    for selection in (choose_optimal(sites, 100), choose_greedy(sites, 100)):
        assert selection.codes == ("A",)
        assert {o.candidate.code: o.reason for o in selection.left_out} == {"Z": NO_BENEFIT, "Y": NO_BENEFIT}


def test_free_sites_are_always_bought():
    sites = [Candidate("A", 100, 50.0), Candidate("F", 0, 0.1)]
    assert choose_optimal(sites, 1).codes == ("F",)
    assert choose_greedy(sites, 1).codes == ("F",)


def test_a_budget_smaller_than_every_cost_buys_nothing():
    sites = [Candidate("A", 100, 5.0), Candidate("B", 200, 9.0)]
    chosen = choose_optimal(sites, 99.9)
    assert chosen.chosen == () and chosen.total_cost_kzt == 0 and chosen.total_benefit == 0
    assert chosen.budget_kzt == 99 and [o.reason for o in chosen.left_out] == [OVER_BUDGET, OVER_BUDGET]


def test_no_candidates_buy_nothing():
    for selection in (choose_optimal([], 1e9), choose_greedy([], 1e9)):
        assert selection.chosen == () and selection.left_out == () and selection.remaining_kzt == 10**9


def test_a_fraction_of_a_tenge_buys_nothing_and_costs_round_up():
    assert Candidate("A", 99.2, 1.0).cost_kzt == 100
    assert choose_optimal([Candidate("A", 100, 1.0)], 100.9).codes == ("A",)
    assert choose_optimal([Candidate("A", 100.5, 1.0)], 100.9).codes == ()


@pytest.mark.parametrize("budget", [0, -5, math.nan, math.inf, "abc", "", True, None, "5,000", 2e15, "1e16", [1]])
def test_bad_budgets_are_refused_naming_the_value(budget):
    with pytest.raises(InvalidInput) as refused:
        choose_optimal([Candidate("A", 1, 1.0)], budget)
    assert refused.value.field == "budget" and "positive finite number of tenge" in refused.value.message
    assert repr(budget) in refused.value.message


@pytest.mark.parametrize("text, amount", [("5000000000", 5e9), ("5 000 000 000", 5e9), ("5e9", 5e9),
                                          ("5_000", 5000.0), ("\u00a012.5 ", 12.5), (7, 7.0)])
def test_budgets_are_read_as_planners_write_them(text, amount):
    assert check_budget(text) == amount


@pytest.mark.parametrize("fields, name", [({"cost_kzt": -1}, "cost_kzt"), ({"cost_kzt": math.nan}, "cost_kzt"),
                                          ({"benefit": -0.5}, "benefit"), ({"benefit": math.inf}, "benefit")])
def test_negative_or_non_finite_costs_and_benefits_are_refused(fields, name):
    with pytest.raises(InvalidInput) as refused:
        Candidate(**{"code": "A", "cost_kzt": 1, "benefit": 1.0, **fields})
    assert refused.value.field == name


def test_a_site_listed_twice_is_refused():
    with pytest.raises(InvalidInput, match="each site code once"):
        choose_optimal([Candidate("A", 1, 1.0), Candidate("A", 2, 2.0)], 10)


def test_an_entered_cost_wins_then_the_volume_then_the_area():
    entered = site_cost(7_500_000_000.4, 10.0, 1000.0)
    assert (entered.kzt, entered.estimated, entered.basis) == (7_500_000_001, False, "entered")
    assert site_cost(0.0, 10.0, None).kzt == 0
    by_volume = site_cost(None, 10.0, 1000.0)
    assert by_volume.kzt == 1000 * programme.value("excavate_and_contain_kzt_per_m3") and by_volume.estimated
    assert "1,000 m3" in by_volume.basis
    by_area = site_cost(None, 1.31, 0.0)
    assert by_area.kzt == 327_500_000 and "1.31 ha" in by_area.basis
    assert site_cost(None, 1.1, None).kzt == 275_000_000  # not one tenge more from float noise
    assert site_cost(None, 1.9e6, None).basis.startswith("1,900,000 ha x")


def test_no_cost_and_nothing_to_estimate_from_gives_none():
    assert site_cost(None, None, None) is None
    assert site_cost(None, 0.0, 0.0) is None


def test_negative_quantities_are_refused():
    with pytest.raises(InvalidInput, match="area_ha"):
        site_cost(None, -1.0, None)
    with pytest.raises(InvalidInput, match="remediation_cost_kzt"):
        site_cost(-1.0, None, None)


def test_people_protected_is_the_largest_target_of_the_stored_explanation():
    exposure = Exposure(ring_population=(0, 500, 2000, 10000, 0, 0), layers=frozenset({"settlement"}))
    score = score_site(SiteInputs("KZ-PAV-0001", "chemical_plant", "poor", "facility", exposure=exposure), "kz_pdk_soil")
    targets = [f["weighted_people"] for p in score.explanation["parts"] for f in p["factors"] if f["name"] == "targets"]
    assert people_protected(score.explanation) == max(targets) > 0
    assert people_protected({}) == 0.0 and people_protected(None) == 0.0


def test_risk_reduction_is_score_share_times_people_or_the_score_alone():
    assert risk_reduction(49.25, 57_039.2) == pytest.approx(28_091.8, abs=0.1)
    assert risk_reduction(20.0, 0.0) == 0.2
    assert risk_reduction(0.0, 10_000) == 0.0


def test_every_programme_factor_is_declared_and_documented():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scoring.md").read_text(encoding="utf-8")
    for factor in FACTORS:
        assert factor.unit and factor.source and factor.help and factor.tag in ("V", "P", "U"), factor.name
        assert f"`{factor.name}`" in doc, f"docs/scoring.md does not explain {factor.name}"


def test_docstring_examples_run():
    assert doctest.testmod(programme).failed == 0
