"""Remediation programme under a budget: site costs, risk reduction, and the choice of sites by MILP or greedy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from sites.errors import InvalidInput, SitesError
from sites.scoring.tables import Factor

PROGRAMME_VERSION = "1.0.0"
SOLVER = "scipy.optimize.milp (HiGHS), binary knapsack"

# Several times Kazakhstan's yearly GDP (about 1.2e14 tenge), so a larger budget is a typing mistake; and below
# 2**53 (about 9e15) a budget typed in whole tenge is read exactly as a float.
MAX_BUDGET_KZT = 10**15
# A national register has thousands of candidates, which HiGHS solves in well under a second; a minute means a bug.
TIME_LIMIT_S = 60.0
# HiGHS accepts x within 1e-6 of 0 or 1 and rows within 1e-7 of their bound, so a pick may overrun the scaled
# budget row by up to about 1.1e-6. Loosening the row by more keeps every set within the budget in the model;
# picks that overrun it are cut off one by one (in random tests never more than two).
LOOSENED_BY = 2e-6
MAX_CUTS = 100

NO_COST = "no cost and nothing to estimate it from"
OVER_BUDGET = "does not fit the remaining budget"
NO_BENEFIT = "reduces no risk (benefit 0)"

UNIT_COST_SOURCE = (
    "UK indicative land-remediation rates of a published cost model, 1999 prices excluding landfill tax "
    "(removal to landfill 40-140 GBP/m3, on-site encapsulation 20-75 GBP/m3, clean cover 20-40 GBP/m2), "
    "about doubled to current prices, converted at about 600 KZT/GBP and rounded down for Kazakh labour costs; "
    "not read in a primary source and not a tender price")

F = Factor
FACTORS: tuple[Factor, ...] = (
    F("excavate_and_contain_kzt_per_m3", 50_000, "KZT per m3", "U", UNIT_COST_SOURCE,
      "Estimated cost of digging out one cubic metre of waste or contaminated soil and placing it in an engineered "
      "containment cell (capped), used when a site has a waste volume and no entered cost"),
    F("cap_kzt_per_ha", 250_000_000, "KZT per ha", "U", UNIT_COST_SOURCE,
      "Estimated cost of covering one hectare in place with a clean soil cover (25,000 KZT/m2), used when a site "
      "has an area but no waste volume and no entered cost"),
    F("minimum_person_equivalents", 1.0, "person-equivalents", "U",
      "own choice: a site where the scores count nobody (or no settlement layer is loaded) still protects those "
      "who reach it, so its risk reduction is its score alone",
      "Floor of the people a remediation protects, so sites with nobody counted are ordered by score"),
)
BY_NAME = {f.name: f for f in FACTORS}


def value(name: str) -> Any:
    """The declared value of programme factor ``name``."""
    return BY_NAME[name].value


@dataclass(frozen=True)
class Cost:
    """A site's remediation cost in whole tenge, and whether (and from what) it was estimated."""

    kzt: int
    estimated: bool
    basis: str


def site_cost(entered_kzt: float | None, area_ha: float | None, waste_volume_m3: float | None) -> Cost | None:
    """The entered cost, else an estimate from the waste volume, else from the area; None when none is known.

    Parameters
    ----------
    entered_kzt : float or None
        ``remediation_cost_kzt`` of the site; it wins whenever entered, even when it is 0.
    area_ha, waste_volume_m3 : float or None
        Only positive values are something to estimate from. The volume wins over the area: waste that is dug
        out and contained leaves nothing to cap, and the containment cell's cap is in the unit cost.

    Examples
    --------
    >>> site_cost(None, 2.0, None)
    Cost(kzt=500000000, estimated=True, basis='2 ha x 250,000,000 KZT/ha capped')
    >>> site_cost(None, None, None) is None
    True
    """
    if entered_kzt is not None:
        return Cost(whole_tenge("remediation_cost_kzt", entered_kzt), False, "entered")
    volume = _non_negative("waste_volume_m3", waste_volume_m3)
    area = _non_negative("area_ha", area_ha)
    if volume:
        return _estimate(volume, "m3", "excavate_and_contain_kzt_per_m3", "excavated and contained")
    if area:
        return _estimate(area, "ha", "cap_kzt_per_ha", "capped")
    return None


def _estimate(amount: float, unit: str, factor: str, work: str) -> Cost:
    rate = value(factor)
    shown = f"{amount:,.0f}" if amount.is_integer() else f"{amount:,.6g}"
    # The nearest tenge: rounding up would turn float noise (1.1 x 250e6 = 275000000.00000003) into an extra tenge.
    return Cost(round(amount * rate), True, f"{shown} {unit} x {rate:,} KZT/{unit} {work}")


def _non_negative(field: str, number: float | None) -> float:
    if number is None:
        return 0.0
    if isinstance(number, bool) or not math.isfinite(number) or number < 0:
        raise InvalidInput(field, number, "a non-negative number")
    return float(number)


def whole_tenge(field: str, amount: Any) -> int:
    """A non-negative cost as whole tenge, rounded up so that a programme never costs more than it says."""
    if isinstance(amount, bool):
        raise InvalidInput(field, amount, "a non-negative number of tenge")
    try:
        number = float(amount)
    except (TypeError, ValueError):
        raise InvalidInput(field, amount, "a non-negative number of tenge") from None
    if not math.isfinite(number) or number < 0:
        raise InvalidInput(field, amount, "a non-negative number of tenge")
    return math.ceil(number)


def people_protected(explanation: Mapping[str, Any] | None) -> float:
    """The person-equivalents of the pathway reaching the most people, as the stored score explanation counts them.

    These are the people in the distance rings weighted by ring and by sensitivity (children, women of
    reproductive age), plus schools, hospitals or wells as person-equivalents: the targets' ``weighted_people``.
    Zero when the explanation gives none.
    """
    counted = [factor.get("weighted_people") or 0.0
               for part in (explanation or {}).get("parts", ())
               for factor in part.get("factors", ()) if factor.get("name") == "targets"]
    return float(max(counted, default=0.0))


def risk_reduction(total_score: float, people: float) -> float:
    """Benefit of remediating a site: its total score as a share of 100 times the people it protects.

    Examples
    --------
    >>> risk_reduction(50.0, 20_000)
    10000.0
    >>> risk_reduction(50.0, 0)  # nobody counted: the score alone
    0.5
    """
    return total_score / 100.0 * max(people, value("minimum_person_equivalents"))


def check_budget(budget: Any) -> float:
    """A budget in tenge: a positive finite number up to MAX_BUDGET_KZT; text may group digits with spaces or _.

    Raises
    ------
    InvalidInput
        For anything else, naming the value received.
    """
    expected = f"a positive finite number of tenge up to {MAX_BUDGET_KZT:.0e}, e.g. 5000000000 or 5e9"
    text = "".join(budget.split()).replace("_", "") if isinstance(budget, str) else budget
    if isinstance(text, bool):
        raise InvalidInput("budget", budget, expected)
    try:
        number = float(text)
    except (TypeError, ValueError):
        raise InvalidInput("budget", budget, expected) from None
    if not (math.isfinite(number) and 0 < number <= MAX_BUDGET_KZT):
        raise InvalidInput("budget", budget, expected)
    return number


@dataclass(frozen=True)
class Candidate:
    """A site that could be remediated: its cost in whole tenge and the risk its remediation removes."""

    code: str
    cost_kzt: int
    benefit: float
    cost_estimated: bool = False
    cost_basis: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost_kzt", whole_tenge("cost_kzt", self.cost_kzt))
        if isinstance(self.benefit, bool) or not math.isfinite(self.benefit) or self.benefit < 0:
            raise InvalidInput("benefit", self.benefit, "a non-negative finite number")


@dataclass(frozen=True)
class LeftOut:
    """A candidate the programme does not buy, and why."""

    candidate: Candidate
    reason: str


@dataclass(frozen=True)
class Selection:
    """What a budget buys: the chosen candidates in rank order and everything it leaves out."""

    method: str
    budget_kzt: int
    chosen: tuple[Candidate, ...]
    left_out: tuple[LeftOut, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.chosen)

    @property
    def total_cost_kzt(self) -> int:
        return sum(c.cost_kzt for c in self.chosen)

    @property
    def total_benefit(self) -> float:
        return math.fsum(c.benefit for c in self.chosen)

    @property
    def remaining_kzt(self) -> int:
        return self.budget_kzt - self.total_cost_kzt


def choose_greedy(candidates: Sequence[Candidate], budget_kzt: float, *, order: str = "rank") -> Selection:
    """Walk the candidates in order, taking each that reduces risk and fits the remaining budget.

    Parameters
    ----------
    candidates : sequence of Candidate
        In the ranking's order, highest priority first.
    budget_kzt : float
        Positive budget in tenge (see :func:`check_budget`).
    order : {"rank", "ratio"}
        ``"rank"`` is the issue's baseline, "greedy selection by rank": what a planner does by funding the ranking
        from the top. ``"ratio"`` is the textbook knapsack heuristic, highest benefit per tenge first (free sites
        first, ties in rank order); it is usually close to the optimum, yet can still be far from it.
    """
    budget = _whole_budget(budget_kzt)
    _check_unique(candidates)
    if order not in ("rank", "ratio"):
        raise InvalidInput("order", order, "rank or ratio")
    return _selection(f"greedy by {order}", candidates, _greedy(candidates, budget, order), budget)


def choose_optimal(candidates: Sequence[Candidate], budget_kzt: float) -> Selection:
    """The candidates of greatest total benefit whose total cost fits the budget: a binary knapsack solved by MILP.

    HiGHS (through ``scipy.optimize.milp``) maximises the sum of benefits subject to the sum of costs <= the
    budget, with each site taken or not (integrality 1, bounds 0..1) and no relative optimality gap. Its
    tolerances (rows 1e-7, integrality 1e-6, absolute gap 1e-6) are made harmless: every pick is costed in exact
    integer tenge and one over the budget is cut off and solved again (see ``_solve``); any site that still fits
    and reduces risk is added; and the better of this and both greedy answers is kept. So the result is never
    over the budget and never worse than greedy, exactly, and within 1e-6 of the optimal total benefit.

    Examples
    --------
    >>> sites = [Candidate("A", 60, 10.0), Candidate("B", 50, 8.0), Candidate("C", 50, 8.0)]
    >>> choose_optimal(sites, 100).codes, choose_greedy(sites, 100).codes
    (('B', 'C'), ('A',))
    """
    budget = _whole_budget(budget_kzt)
    _check_unique(candidates)
    solved = _fill(candidates, _solve(candidates, budget), budget, range(len(candidates)))
    answers = [solved] + [_greedy(candidates, budget, order) for order in ("rank", "ratio")]
    best = max(answers, key=lambda chosen: math.fsum(candidates[i].benefit for i in chosen))  # first of equals
    return _selection("milp", candidates, best, budget)


def _greedy(candidates: Sequence[Candidate], budget: int, order: str) -> set[int]:
    walk = list(range(len(candidates)))
    if order == "ratio":
        walk.sort(key=lambda i: -_per_tenge(candidates[i]))  # sort is stable: ties keep the rank order
    return _fill(candidates, set(), budget, walk)


def _solve(candidates: Sequence[Candidate], budget: int) -> set[int]:
    """Indices of the optimal choice among the paid sites that reduce risk and could fit; free ones come later.

    Costs are scaled by the budget (HiGHS fails on rows of 1e12 tenge) and the row is loosened by the solver's
    tolerances, so no set within the budget is ever out of the model. Whatever the solver picks is then costed
    in exact integer tenge; a pick over the budget is cut off (that set, exactly) and the model solved again.
    """
    usable = [i for i, c in enumerate(candidates) if c.benefit > 0 and 0 < c.cost_kzt <= budget]
    if not usable:
        return set()
    costs = np.array([candidates[i].cost_kzt for i in usable], dtype=float) / budget
    gains = np.array([candidates[i].benefit for i in usable], dtype=float)
    rows = [LinearConstraint(costs[np.newaxis, :], -np.inf, 1.0 + LOOSENED_BY)]
    for _ in range(MAX_CUTS):
        taken = [usable[j] for j in _milp(gains, rows)]
        if sum(candidates[i].cost_kzt for i in taken) <= budget:
            return set(taken)
        cut = np.isin(usable, taken).astype(float)
        rows.append(LinearConstraint(cut[np.newaxis, :], -np.inf, len(taken) - 1))
    raise SitesError(f"the MILP solver kept choosing sites just over the budget ({MAX_CUTS} tries); "
                     "nothing was chosen (please report this)")


def _milp(gains: np.ndarray, rows: list[LinearConstraint]) -> list[int]:
    """Positions taken by the binary programme maximising ``gains`` subject to ``rows``."""
    result = milp(-gains, integrality=np.ones(len(gains)), bounds=Bounds(0, 1), constraints=rows,
                  options={"mip_rel_gap": 0.0, "time_limit": TIME_LIMIT_S})
    if result.status != 0 or result.x is None:
        raise SitesError(f"the MILP solver found no proven optimum: {result.message}")
    return [j for j, taken in enumerate(result.x) if taken > 0.5]


def _fill(candidates: Sequence[Candidate], chosen: set[int], budget: int, walk: Iterable[int]) -> set[int]:
    """Add, in ``walk`` order, every candidate that reduces risk and fits what the chosen ones leave."""
    chosen = set(chosen)
    remaining = budget - sum(candidates[i].cost_kzt for i in chosen)
    for i in walk:
        candidate = candidates[i]
        if i not in chosen and candidate.benefit > 0 and candidate.cost_kzt <= remaining:
            chosen.add(i)
            remaining -= candidate.cost_kzt
    return chosen


def _selection(method: str, candidates: Sequence[Candidate], chosen: set[int], budget: int) -> Selection:
    taken = tuple(c for i, c in enumerate(candidates) if i in chosen)
    # After _fill nothing left out both reduces risk and fits, so these two reasons are the only ones, and true.
    left = tuple(LeftOut(c, OVER_BUDGET if c.benefit > 0 else NO_BENEFIT)
                 for i, c in enumerate(candidates) if i not in chosen)
    return Selection(method, budget, taken, left)


def _per_tenge(candidate: Candidate) -> float:
    return candidate.benefit / candidate.cost_kzt if candidate.cost_kzt else math.inf


def _whole_budget(budget_kzt: float) -> int:
    """Whole tenge: costs are whole, so a fraction of a tenge buys nothing."""
    return math.floor(check_budget(budget_kzt))


def _check_unique(candidates: Sequence[Candidate]) -> None:
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.code in seen:
            raise InvalidInput("candidates", candidate.code, "each site code once")
        seen.add(candidate.code)
