"""Rank stability: Monte Carlo over the uncertain inputs, giving each site its chance of being in the top N and a
rank interval.

What is uncertain, per draw: the defaulted values (an unmeasured site's exceedance, an unknown quantity, the share
of people drinking local groundwater), results below the detection limit (anywhere from zero to the limit), and
quantities, which are estimates (a log-normal factor). Each draw rescores every site in memory with
:func:`sites.scoring.whatif.scenario`; nothing is stored.
"""

from __future__ import annotations

import dataclasses
import math
import random
import statistics
from typing import Iterable

from sites.errors import InvalidInput
from sites.scoring.method import SiteInputs, score_site
from sites.scoring.whatif import BY_NAME, rank_order, scenario

# Factors drawn uniformly within their what-if bounds in every draw.
DRAWN = ("default_exceedance", "default_quantity", "non_detect_fraction", "groundwater_use_share")
QUANTITY_SIGMA = 0.7  # log-normal spread of estimated quantities: about half to double at one sigma [U]
MAX_DRAWS = 5000


def rank_stability(sites: Iterable[SiteInputs], guidelines: str, *, draws: int = 200, top: int = 10,
                   seed: int = 1) -> list[dict]:
    """Per site: official rank, median rank, 5-95% rank interval and the share of draws in the top ``top``.

    Rows come in official order. The shares of all sites add up to ``top`` (or the number of sites, if fewer).
    """
    sites = list(sites)
    _check(draws, top)
    official = _ranks(sites, guidelines, {})
    rng = random.Random(seed)
    ranks: dict[str, list[int]] = {s.code: [] for s in sites}
    for _ in range(draws):
        overrides = {name: rng.uniform(BY_NAME[name].low, BY_NAME[name].high) for name in DRAWN}
        drawn = [_perturbed(site, rng) for site in sites]
        for code, rank in _ranks(drawn, guidelines, overrides).items():
            ranks[code].append(rank)
    rows = [_summary(code, official[code], ranks[code], top) for code in ranks]
    return sorted(rows, key=lambda r: r["official_rank"])


def _check(draws: int, top: int) -> None:
    if not 1 <= draws <= MAX_DRAWS:
        raise InvalidInput("draws", draws, f"a number of draws from 1 to {MAX_DRAWS}")
    if top < 1:
        raise InvalidInput("top", top, "a positive number of places")


def _ranks(sites: list[SiteInputs], guidelines: str, overrides: dict) -> dict[str, int]:
    with scenario(overrides):
        scored = [score_site(site, guidelines) for site in sites]
    order = rank_order([{"code": s.code, "class": s.priority_class, "total": s.total} for s in scored])
    return {row["code"]: i for i, row in enumerate(order, start=1)}


def _perturbed(site: SiteInputs, rng: random.Random) -> SiteInputs:
    """Quantities scaled by a log-normal factor; everything measured stays as measured."""
    def scale(value):
        return None if value is None else value * math.exp(rng.gauss(0.0, QUANTITY_SIGMA))
    return dataclasses.replace(site, waste_mass_t=scale(site.waste_mass_t), area_ha=scale(site.area_ha))


def _summary(code: str, official: int, ranks: list[int], top: int) -> dict:
    ordered = sorted(ranks)
    low = ordered[int(0.05 * (len(ordered) - 1))]
    high = ordered[math.ceil(0.95 * (len(ordered) - 1))]
    return {"code": code, "official_rank": official, "median_rank": statistics.median(ordered),
            "rank_low": low, "rank_high": high, "p_top": sum(r <= top for r in ranks) / len(ranks)}
