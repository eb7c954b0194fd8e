"""What-if scenarios: bounds, the official values restored, and a heavier weight never lowering a score."""

from __future__ import annotations

import pytest

from sites.errors import InvalidInput
from sites.scoring.method import score_site
from sites.scoring.tables import BY_NAME, value
from sites.scoring.whatif import ADJUSTABLE, check_overrides, rank_order, scenario
from tests.sites.test_scoring import site as inputs


def test_a_scenario_changes_values_only_inside_its_block():
    declared = value("children_weight")
    with scenario({"children_weight": 1.5}) as used:
        assert value("children_weight") == 1.5 and used == {"children_weight": 1.5}
        assert value("women_weight") == BY_NAME["women_weight"].value
    assert value("children_weight") == declared


def test_the_declared_values_lie_within_their_bounds():
    for factor in ADJUSTABLE:
        assert factor.low <= BY_NAME[factor.name].value <= factor.high, factor.name


@pytest.mark.parametrize("overrides, message", [
    ({"class_thresholds": 1}, "one of the adjustable factors"),
    ({"children_weight": 12}, "from 1 to 10"),
    ({"population_scale": "many"}, "a number"),
    ({"non_detect_fraction": float("nan")}, "a finite number"),
])
def test_bad_scenarios_are_refused(overrides, message):
    with pytest.raises(InvalidInput, match=message):
        check_overrides(overrides)


def test_decimal_commas_are_read():
    assert check_overrides({"groundwater_use_share": "0,25"}) == {"groundwater_use_share": 0.25}


def test_weighing_children_more_never_lowers_a_score():
    site = inputs()
    official = score_site(site, "kz_pdk_soil").total
    with scenario({"children_weight": 10}):
        heavier = score_site(site, "kz_pdk_soil").total
    with scenario({"children_weight": 1}):
        lighter = score_site(site, "kz_pdk_soil").total
    assert lighter <= official <= heavier


def test_rank_order_puts_class_i_last():
    rows = [{"code": "A", "class": "I", "total": 90.0}, {"code": "B", "class": "2", "total": 20.0},
            {"code": "C", "class": "1", "total": 40.0}]
    assert [r["code"] for r in rank_order(rows)] == ["C", "B", "A"]


def test_every_adjustable_factor_is_documented_with_its_bounds():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "scoring.md").read_text(encoding="utf-8")
    section = doc.split("## What-if scenarios", 1)[1]
    for factor in ADJUSTABLE:
        assert f"| {factor.name} |" in section, factor.name
