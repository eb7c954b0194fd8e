"""Screening aid reproducing the published arithmetic of the US Hazard Ranking System; NOT an official HRS score.

The US Hazard Ranking System (HRS, 40 CFR 300 Appendix A) ranks sites for the
US National Priorities List. This module reproduces the parts of its published
arithmetic listed in ``SCORING-SOURCES.md`` (section "US Hazard Ranking
System") so that a register user can arrange screening data the way the HRS
does. It is **not** an HRS score: an official score needs EPA's full
procedure (source characterisation, benchmarks, observed-release criteria,
every factor table, documentation and review), most of which is not here.
Never present a number from this module as "the HRS score" of a site.

Every declared number carries the tag of ``SCORING-SOURCES.md``:
``[V]`` read in the cited source, ``[P]`` consistent with verified cells,
``[U]`` unverified (confirm before relying on it, and say so in
``docs/scoring.md`` wherever it is used).

Rounding, the one rule applied here
-----------------------------------
The worked examples round only the potential contamination factor:
167 x 0.1 = 16.7 -> 17, 523 x 0.1 = 52.3 -> 52 and
0.1 x (1,669 + 939 + 678) = 328.6 -> 329. The one rule consistent with all
three is: *a potential contamination factor of 1 or more is rounded to the
nearest integer (halves up); a value below 1 is kept unrounded.* The HRS
states that rule in those words for the analogous surface-water potential
food-chain factor (section 4.1.3.3.2.3, as quoted on EPA's HRS training
pages); for the groundwater factor it is inferred from the examples [P].
Level I and Level II values are whole numbers of people times 10 and 1, so
the population factor needs no further rounding (40 + 7 + 329 = 376). Pathway and site scores are returned unrounded;
report them to two decimals, as HRS scores are quoted (25.495 -> 25.50).

Examples
--------
>>> site_score([57, 0, 0, 0])
28.5
>>> waste_characteristics_factor(waste_characteristics_product(10_000, 1, 100))
32
>>> potential_contamination_factor([(950, 0.6)])
17.0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from sites.errors import InvalidInput


class Factor(NamedTuple):
    """One declared number of the method, with its unit and source tag."""

    name: str
    value: float
    unit: str
    source: str
    help: str


NPL_ELIGIBILITY = 28.50
PATHWAYS = ("groundwater", "surface_water", "soil", "air")
PATHWAY_DIVISOR = 82_500
LIKELIHOOD_MAX = 550
WASTE_CHARACTERISTICS_MAX = 100
PATHWAY_MAX = 100
PRODUCT_CAP = 1e8
PRODUCT_CAP_WITH_BIOACCUMULATION = 1e12
SOIL_QUANTITY_MAX = 1_000_000
LEVEL_I_WEIGHT = 10
LEVEL_II_WEIGHT = 1
POTENTIAL_WEIGHT = Decimal("0.1")

# Waste characteristics lookup: (lowest product of the band, factor value), highest band first.
# Only the [1e6, 1e7) -> 32 band is [V]; the rest are [P] in SCORING-SOURCES.md.
WASTE_CHARACTERISTICS_BANDS: tuple[tuple[float, int], ...] = (
    (1e8, 100), (1e7, 56), (1e6, 32), (1e5, 18), (1e4, 10), (1e3, 6), (1e2, 3), (10, 2),
)

# Soil-exposure hazardous waste quantity by area [V]: keyword -> divisor.
SOIL_DIVISORS: dict[str, float] = {
    "contaminated_soil_ft2": 34_000,
    "landfill_ft2": 34_000,
    "pile_ft2": 34,
    "surface_impoundment_ft2": 13,
    "land_treatment_ft2": 270,
    "drums_gallons": 500,
}


class Ring(NamedTuple):
    """A distance ring around the source, closed at its outer edge, with its weight."""

    label: str
    outer_miles: float
    weight: Decimal
    source: str


# Ring limits are [V]; the weights are "roughly" these values in SCORING-SOURCES.md, hence [P].
RINGS: tuple[Ring, ...] = (
    Ring("0-1/4", 0.25, Decimal("1.0"), "[P]"),
    Ring("1/4-1/2", 0.5, Decimal("0.62"), "[P]"),
    Ring("1/2-1", 1.0, Decimal("0.32"), "[P]"),
    Ring("1-2", 2.0, Decimal("0.18"), "[P]"),
    Ring("2-3", 3.0, Decimal("0.13"), "[P]"),
    Ring("3-4", 4.0, Decimal("0.08"), "[P]"),
)


class Category(NamedTuple):
    """A population category (whole people, closed at its upper bound) and its representative value."""

    label: str
    upper: int
    value: Decimal
    source: str


# The representative value is the category's distance-weighted value at weight 1.0 (the 0-1/4 row).
# [P]: within table rounding of the verified cells at the [P] weights (167/0.32, 523/0.32, 939/0.18, 678/0.13).
# [U]: the first row of the HRS groundwater table as recalled, not read in a cited source; confirm before use.
CATEGORIES: tuple[Category, ...] = (
    Category("0", 0, Decimal(0), "[V]"),
    Category("1-10", 10, Decimal(4), "[U]"),
    Category("11-30", 30, Decimal(17), "[U]"),
    Category("31-100", 100, Decimal(53), "[U]"),
    Category("101-300", 300, Decimal(164), "[U]"),
    Category("301-1,000", 1_000, Decimal(522), "[P]"),
    Category("1,001-3,000", 3_000, Decimal(1_633), "[P]"),
    Category("3,001-10,000", 10_000, Decimal(5_214), "[P]"),
    Category("10,001-30,000", 30_000, Decimal(16_325), "[U]"),
    Category("30,001-100,000", 100_000, Decimal(52_137), "[U]"),
    Category("100,001-300,000", 300_000, Decimal(163_246), "[U]"),
    Category("300,001-1,000,000", 1_000_000, Decimal(521_360), "[U]"),
    Category("1,000,001-3,000,000", 3_000_000, Decimal(1_632_455), "[U]"),
    Category("3,000,001-10,000,000", 10_000_000, Decimal(5_213_590), "[U]"),
)

# Cells of the published groundwater distance-weighted population table read in the source [V],
# keyed by (ring label, category label). They win over the derived product because the published
# table was computed before rounding: 5,214 x 0.32 = 1,668.48 would give 1,668, the table says 1,669.
VERIFIED_CELLS: dict[tuple[str, str], Decimal] = {
    ("1/2-1", "301-1,000"): Decimal(167),
    ("1/2-1", "1,001-3,000"): Decimal(523),
    ("1/2-1", "3,001-10,000"): Decimal(1_669),
    ("1-2", "3,001-10,000"): Decimal(939),
    ("2-3", "3,001-10,000"): Decimal(678),
}

FACTORS: tuple[Factor, ...] = (
    Factor("npl_eligibility", NPL_ELIGIBILITY, "site score", "[V]",
           "Site score at or above which the HRS makes a site NPL-eligible."),
    Factor("pathway_divisor", PATHWAY_DIVISOR, "-", "[V]", "Pathway score = likelihood x WC x targets / 82,500."),
    Factor("likelihood_max", LIKELIHOOD_MAX, "-", "[V]", "Largest likelihood of release value."),
    Factor("waste_characteristics_max", WASTE_CHARACTERISTICS_MAX, "-", "[V]", "Largest waste characteristics value."),
    Factor("pathway_max", PATHWAY_MAX, "-", "[V]", "Cap on a pathway score."),
    Factor("product_cap", PRODUCT_CAP, "-", "[V]", "Cap on toxicity x mobility/persistence x quantity."),
    Factor("product_cap_with_bioaccumulation", PRODUCT_CAP_WITH_BIOACCUMULATION, "-", "[V]",
           "Cap on the capped product times a bioaccumulation factor."),
    Factor("soil_quantity_max", SOIL_QUANTITY_MAX, "-", "[V]", "Cap on the soil-exposure waste quantity value."),
    Factor("level_i_weight", LEVEL_I_WEIGHT, "per person", "[V]", "Weight of people above a health benchmark."),
    Factor("level_ii_weight", LEVEL_II_WEIGHT, "per person", "[V]",
           "Weight of people with actual contamination below a health benchmark."),
    Factor("potential_weight", float(POTENTIAL_WEIGHT), "-", "[V]", "Weight of the distance-weighted potential value."),
)


def site_score(pathway_scores: Sequence[float] | Mapping[str, float]) -> float:
    """Combine the four pathway scores by root mean square.

    Parameters
    ----------
    pathway_scores : sequence of 4 numbers, or mapping
        Scores 0-100 in the order groundwater, surface water, soil exposure,
        air; or a mapping with exactly the keys ``groundwater``,
        ``surface_water``, ``soil`` and ``air``.

    Returns
    -------
    float
        ``sqrt((Sgw^2 + Ssw^2 + Ss^2 + Sa^2) / 4)``, unrounded. A site at or
        above ``NPL_ELIGIBILITY`` (28.50) would be NPL-eligible under the HRS.

    Raises
    ------
    InvalidInput
        ``field="pathway_scores"`` for a wrong shape or keys; the pathway's
        name for a score that is not a number from 0 to 100.

    Examples
    --------
    >>> round(site_score({"groundwater": 40, "surface_water": 30, "soil": 0, "air": 10}), 2)
    25.5
    """
    scores = [_number(name, value, 0, PATHWAY_MAX) for name, value in _pathway_items(pathway_scores)]
    # sqrt(sum of squares / 4) written as hypot / 2: the same value, without squares underflowing to 0.
    combined = math.hypot(*scores) / 2
    # Mathematically S <= max(scores); min() only removes floating-point noise above it.
    return min(combined, max(scores))


def pathway_score(likelihood: float, waste_characteristics: float, targets: float) -> float:
    """Score one pathway from its three factor categories.

    Parameters
    ----------
    likelihood : float
        Likelihood of release (or exposure), 0 to 550.
    waste_characteristics : float
        Waste characteristics factor category value, 0 to 100.
    targets : float
        Targets factor category value, 0 or more.

    Returns
    -------
    float
        ``likelihood x waste_characteristics x targets / 82,500``, capped at
        100, unrounded.

    Raises
    ------
    InvalidInput
        Naming the argument that is out of range or not a number.

    Examples
    --------
    >>> pathway_score(550, 100, 150)
    100.0
    """
    lr = _number("likelihood", likelihood, 0, LIKELIHOOD_MAX)
    wc = _number("waste_characteristics", waste_characteristics, 0, WASTE_CHARACTERISTICS_MAX)
    tf = _number("targets", targets, 0)
    return min(lr * wc * tf / PATHWAY_DIVISOR, float(PATHWAY_MAX))


def waste_characteristics_product(
    toxicity: float, mobility_or_persistence: float, quantity_factor: float, bioaccumulation: float | None = None,
) -> float:
    """Multiply the waste characteristics factors, applying the HRS caps.

    ``SCORING-SOURCES.md`` gives both caps ("capped at 1e8 (1e12 with
    bioaccumulation)") but not the order. Implemented: the three-factor
    product is capped at 1e8 first; when a bioaccumulation factor is given,
    that capped product is multiplied by it and capped at 1e12. (This is how
    HRS section 2.4.3.2 is recalled to read; the order is [U].)

    The lookup in ``waste_characteristics_factor`` stops at 100 for every
    product of 1e8 or more: the HRS rows above 1e8, used with
    bioaccumulation, are not in ``SCORING-SOURCES.md`` and are not invented
    here, so the 1e12 cap only bounds the returned product.

    Parameters
    ----------
    toxicity : float
        Toxicity factor value, 0 or more.
    mobility_or_persistence : float
        Mobility (migration pathways) or persistence (surface water) factor value, 0 or more.
    quantity_factor : float
        Hazardous waste quantity factor value, 0 or more.
    bioaccumulation : float, optional
        Bioaccumulation potential factor value, 0 or more.

    Returns
    -------
    float
        The capped product, to look up with ``waste_characteristics_factor``.

    Raises
    ------
    InvalidInput
        Naming the argument that is negative or not a finite number.

    Examples
    --------
    >>> waste_characteristics_product(10_000, 1, 100)
    1000000.0
    >>> waste_characteristics_product(10_000, 1, 1_000_000, bioaccumulation=50_000)
    1000000000000.0
    """
    product = (_number("toxicity", toxicity, 0) * _number("mobility_or_persistence", mobility_or_persistence, 0)
               * _number("quantity_factor", quantity_factor, 0))
    product = min(product, PRODUCT_CAP)
    if bioaccumulation is None:
        return product
    return min(product * _number("bioaccumulation", bioaccumulation, 0), PRODUCT_CAP_WITH_BIOACCUMULATION)


def waste_characteristics_factor(product: float) -> int:
    """Look up the waste characteristics factor category value of a product.

    Bands (lower bound included): 0 -> 0; (0, 10) -> 1; [10, 1e2) -> 2;
    [1e2, 1e3) -> 3; [1e3, 1e4) -> 6; [1e4, 1e5) -> 10; [1e5, 1e6) -> 18;
    [1e6, 1e7) -> 32 [V]; [1e7, 1e8) -> 56; 1e8 or more -> 100. Bands other
    than the [V] one are [P] in ``SCORING-SOURCES.md``.

    Parameters
    ----------
    product : float
        Output of ``waste_characteristics_product``, 0 or more.

    Returns
    -------
    int
        The factor value, 0 to 100.

    Raises
    ------
    InvalidInput
        ``field="product"`` when it is negative or not a finite number.

    Examples
    --------
    >>> waste_characteristics_factor(1e6)
    32
    """
    value = _number("product", product, 0)
    if value == 0:
        return 0
    return next((factor for lowest, factor in WASTE_CHARACTERISTICS_BANDS if value >= lowest), 1)


def distance_weighted_population(population: float, distance_miles: float) -> float:
    """Distance-weighted value of the people in one ring, for potential contamination.

    As in the HRS groundwater table: the people in a ring are put in a
    population category, and the category's representative value is
    multiplied by the ring's distance weight. Five cells are read from the
    published table [V] and returned exactly: (1/2-1 mi, 301-1,000) = 167;
    (1/2-1 mi, 1,001-3,000) = 523; (1/2-1 mi, 3,001-10,000) = 1,669;
    (1-2 mi, 3,001-10,000) = 939; (2-3 mi, 3,001-10,000) = 678. Every other
    cell is derived: representative value (``CATEGORIES``, [P] or [U]) times
    ring weight (``RINGS``, [P]), rounded half up to a whole number, or to
    one decimal below 1 (the published table is recalled to show 0.7, 0.5
    and 0.3 for 1-10 people beyond 1 mile [U]). A derived cell may differ by
    one from the published table, which appears to have been rounded once
    from unrounded values (see ``VERIFIED_CELLS``).

    Parameters
    ----------
    population : float
        People in the ring, 0 to 10,000,000. A fractional estimate (e.g.
        residences x persons per residence) is rounded half up to whole
        people first, because the categories are whole-number ranges.
    distance_miles : float
        Distance from the source, 0 or more. Rings are closed at their outer
        edge (0-1/4, >1/4-1/2, >1/2-1, >1-2, >2-3, >3-4); beyond 4 miles the
        value is 0.

    Returns
    -------
    float
        The distance-weighted population value.

    Raises
    ------
    InvalidInput
        ``field="population"`` or ``field="distance_miles"``.

    Examples
    --------
    >>> distance_weighted_population(950, 0.6)
    167.0
    """
    people = _people(population)
    ring = _ring(_number("distance_miles", distance_miles, 0))
    return float(_cell(people, ring)) if ring else 0.0


def potential_contamination_factor(rings: Iterable[tuple[float, float]]) -> float:
    """Potential contamination factor: 0.1 x the sum of the rings' distance-weighted values.

    People in the same ring are added up before the category lookup, as the
    HRS table is entered with the population of a whole distance ring. The
    result is rounded by the module's one rule: 1 or more -> nearest integer,
    halves up; below 1 -> unrounded.

    Parameters
    ----------
    rings : iterable of (population, distance_miles) pairs
        People served (or living) at each distance from the source.

    Returns
    -------
    float
        The factor value.

    Raises
    ------
    InvalidInput
        ``field="rings"`` for an item that is not a pair; otherwise as
        ``distance_weighted_population``.

    Examples
    --------
    >>> potential_contamination_factor([(3_241, 0.7), (3_241, 1.5), (8_052, 2.5)])
    329.0
    """
    people_by_ring: dict[Ring, float] = {}
    for population, distance in _pairs(rings):
        people = _number("population", population, 0)
        ring = _ring(_number("distance_miles", distance, 0))
        if ring:
            people_by_ring[ring] = people_by_ring.get(ring, 0) + people
    total = sum((_cell(_people(people), ring) for ring, people in people_by_ring.items()), Decimal(0))
    return float(_round_factor(total * POTENTIAL_WEIGHT))


def population_factor(level_i: float, level_ii: float, potential: float) -> float:
    """Population factor: Level I people x 10 + Level II people x 1 + the potential contamination value.

    Parameters
    ----------
    level_i : float
        People exposed above a health-based benchmark (Level I), 0 or more.
    level_ii : float
        People exposed to actual contamination below it (Level II), 0 or more.
    potential : float
        Output of ``potential_contamination_factor``, 0 or more.

    Returns
    -------
    float
        The sum, not rounded again: the potential value is already rounded.

    Raises
    ------
    InvalidInput
        Naming the argument that is negative or not a finite number.

    Examples
    --------
    >>> population_factor(4, 7, 329)
    376.0
    """
    return (LEVEL_I_WEIGHT * _number("level_i", level_i, 0) + LEVEL_II_WEIGHT * _number("level_ii", level_ii, 0)
            + _number("potential", potential, 0))


def soil_waste_quantity(
    contaminated_soil_ft2: float = 0, landfill_ft2: float = 0, pile_ft2: float = 0,
    surface_impoundment_ft2: float = 0, land_treatment_ft2: float = 0, drums_gallons: float = 0,
) -> float:
    """Soil-exposure hazardous waste quantity value from areas (and drum volume).

    Sum of contaminated soil / 34,000, landfill / 34,000, pile / 34, surface
    impoundment / 13, land treatment / 270 (all ft^2) and drums (gallons) /
    500 [V]. A sum between 0 and 1 becomes 1; the result is capped at
    1,000,000 [V]. No other rounding.

    This is the summed quantity *value*. The HRS then assigns a hazardous
    waste quantity *factor* from a table that ``SCORING-SOURCES.md`` does not
    give, so this module offers no ``hazardous_waste_quantity_factor``.

    Parameters
    ----------
    contaminated_soil_ft2, landfill_ft2, pile_ft2, surface_impoundment_ft2, land_treatment_ft2 : float
        Areas in square feet, 0 or more.
    drums_gallons : float
        Volume held in drums, in US gallons, 0 or more.

    Returns
    -------
    float
        The quantity value, 0 or 1 to 1,000,000.

    Raises
    ------
    InvalidInput
        Naming the argument that is negative or not a finite number.

    Examples
    --------
    >>> soil_waste_quantity(contaminated_soil_ft2=68_000, pile_ft2=17)
    2.5
    """
    amounts = dict(contaminated_soil_ft2=contaminated_soil_ft2, landfill_ft2=landfill_ft2, pile_ft2=pile_ft2,
                   surface_impoundment_ft2=surface_impoundment_ft2, land_treatment_ft2=land_treatment_ft2,
                   drums_gallons=drums_gallons)
    total = sum(_number(name, amount, 0) / SOIL_DIVISORS[name] for name, amount in amounts.items())
    if 0 < total < 1:
        return 1.0
    return min(total, float(SOIL_QUANTITY_MAX))


def _number(field: str, value: object, low: float, high: float = math.inf) -> float:
    """Return ``value`` as a float if it is a finite real number within [low, high], else refuse it."""
    # bool is an int subclass; True as a score is a mistake, not 1.
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not is_real or not math.isfinite(value) or not low <= value <= high:
        upper = "" if high == math.inf else f" to {high:g}"
        raise InvalidInput(field, value, f"a finite number from {low:g}{upper}")
    return float(value)


def _pathway_items(pathway_scores: object) -> list[tuple[str, object]]:
    """Pair each pathway name with its score, refusing anything but 4 values or the 4 named keys."""
    if isinstance(pathway_scores, Mapping):
        if set(pathway_scores) != set(PATHWAYS):
            raise InvalidInput("pathway_scores", pathway_scores, "exactly the keys " + ", ".join(PATHWAYS))
        return [(name, pathway_scores[name]) for name in PATHWAYS]
    # A string is a sequence too, but never a list of scores.
    if isinstance(pathway_scores, (str, bytes)) or not isinstance(pathway_scores, Sequence) \
            or len(pathway_scores) != len(PATHWAYS):
        raise InvalidInput("pathway_scores", pathway_scores, "4 scores in the order " + ", ".join(PATHWAYS))
    return list(zip(PATHWAYS, pathway_scores))


def _pairs(rings: object) -> list[Sequence]:
    """Check that ``rings`` is a collection of (population, distance) pairs."""
    if isinstance(rings, (str, bytes, Mapping)) or not isinstance(rings, Iterable):
        raise InvalidInput("rings", rings, "a list of (population, distance_miles) pairs")
    pairs = list(rings)
    for pair in pairs:
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise InvalidInput("rings", pair, "a (population, distance_miles) pair")
    return pairs


def _people(population: object) -> int:
    """Whole people for a category lookup, halves rounded up."""
    value = _number("population", population, 0, CATEGORIES[-1].upper)
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _ring(distance: float) -> Ring | None:
    """The ring containing ``distance`` (closed at the outer edge), or None beyond 4 miles."""
    return next((ring for ring in RINGS if distance <= ring.outer_miles), None)


def _cell(people: int, ring: Ring) -> Decimal:
    """Distance-weighted value of ``people`` in ``ring``: the verified cell, else the derived one."""
    category = next(category for category in CATEGORIES if people <= category.upper)
    verified = VERIFIED_CELLS.get((ring.label, category.label))
    if verified is not None:
        return verified
    return _round_factor(category.value * ring.weight, keep_one_decimal=True)


def _round_factor(value: Decimal, keep_one_decimal: bool = False) -> Decimal:
    """Round half up to an integer when 1 or more; below 1 keep it unrounded (or at one decimal)."""
    if value >= 1:
        return value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if keep_one_decimal else value
