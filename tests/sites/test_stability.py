"""Rank stability (Monte Carlo): shares add up, runs repeat with a seed, certain sites stay put."""

from __future__ import annotations

import pytest

from sites.errors import InvalidInput
from sites.scoring.method import Exposure, Result
from sites.scoring.stability import rank_stability
from tests.sites.test_scoring import site

MEASURED = site()
UNMEASURED = site(code="KZ-PAV-0002", results=(), waste_mass_t=None)
REMOTE = site(code="KZ-PAV-0003", exposure=Exposure(ring_population=(0, 0, 0, 0, 0, 10), layers=frozenset({"settlement"})))
BELOW_DL = site(code="KZ-PAV-0004", results=(Result("hg", "soil", 2.0, "<", 2.0, guideline=2.1),))


def test_shares_of_the_top_add_up_to_its_size_and_intervals_hold_the_median():
    rows = rank_stability([MEASURED, UNMEASURED, REMOTE, BELOW_DL], "kz_pdk_soil", draws=60, top=2)
    assert sum(r["p_top"] for r in rows) == pytest.approx(2.0)
    for row in rows:
        assert 0.0 <= row["p_top"] <= 1.0
        assert row["rank_low"] <= row["median_rank"] <= row["rank_high"]
    assert [r["official_rank"] for r in rows] == [1, 2, 3, 4]


def test_a_seed_repeats_a_run():
    first = rank_stability([MEASURED, UNMEASURED, BELOW_DL], "kz_pdk_soil", draws=30, top=1, seed=7)
    assert rank_stability([MEASURED, UNMEASURED, BELOW_DL], "kz_pdk_soil", draws=30, top=1, seed=7) == first


def test_a_lone_site_is_always_first():
    [row] = rank_stability([UNMEASURED], "kz_pdk_soil", draws=20, top=1)
    assert (row["p_top"], row["rank_low"], row["rank_high"]) == (1.0, 1, 1)


@pytest.mark.parametrize("options, message", [({"draws": 0}, "draws"), ({"draws": 10_000}, "draws"),
                                              ({"top": 0}, "top")])
def test_bad_requests_are_refused(options, message):
    with pytest.raises(InvalidInput, match=message):
        rank_stability([MEASURED], "kz_pdk_soil", **options)
