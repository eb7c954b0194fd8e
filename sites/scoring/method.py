"""The default screening method: four pathways of likelihood x waste characteristics x targets, explained.

Each pathway score is 100 x L x W x T with L, W, T in [0, 1]; the site total is their root mean square
(as in the HRS), so one pathway alone gives half its score. The explanation's parts are the pathways'
contributions S_p^2 / (4 x total), which add up to the total exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sites.scoring.tables import METHOD_NAME, METHOD_VERSION, PATHWAYS, value


@dataclass(frozen=True)
class Substance:
    """A contaminant recorded at the site, with what the catalogue says of it."""

    code: str
    name: str
    group: str
    stockholm: bool
    medium: str
    confirmed: bool
    quantity_t: float | None = None


@dataclass(frozen=True)
class Result:
    """A sample result in its canonical unit, with the chosen guideline for that medium (same unit) if any."""

    contaminant: str
    medium: str
    value: float
    qualifier: str = "="
    detection_limit: float | None = None
    guideline: float | None = None


@dataclass(frozen=True)
class Exposure:
    """What PostGIS found around the site; ``layers`` lists the receptor kinds loaded nationally."""

    ring_population: tuple[float, ...] = (0.0,) * 6
    settlements: tuple[tuple[str, float, float], ...] = ()  # (name, population, km), nearest first
    sensitive: dict[str, int] = field(default_factory=dict)
    ring_wells: tuple[float, ...] = (0.0,) * 6
    surface_water_km: float | None = None
    surface_water_name: str | None = None
    farmland_nearby: bool = False
    layers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SiteInputs:
    code: str
    activity: str
    containment: str
    location_precision: str
    waste_mass_t: float | None = None
    area_ha: float | None = None
    substances: tuple[Substance, ...] = ()
    results: tuple[Result, ...] = ()
    exposure: Exposure = Exposure()


@dataclass(frozen=True)
class Score:
    code: str
    method: str
    method_version: str
    guideline_set: str
    pathways: dict[str, float]
    hazard: float
    exposure: float
    total: float
    priority_class: str
    confidence: float
    explanation: dict[str, Any]


def score_site(site: SiteInputs, guideline_set: str) -> Score:
    """Score one site with the default method against ``guideline_set`` (used for every ratio)."""
    compared = [(r, ratio) for r in site.results if (ratio := _ratio(r)) is not None]
    likelihood = {p: _likelihood(site, p, compared) for p in PATHWAYS}
    intrinsic = _intrinsic_waste(site)
    waste = {p: _waste(p, intrinsic, compared) for p in PATHWAYS}
    sensitivity = _sensitivity()
    targets = {p: _targets(site, p, sensitivity) for p in PATHWAYS}
    pathways = {p: 100.0 * likelihood[p]["value"] * waste[p]["value"] * targets[p]["value"] for p in PATHWAYS}
    total = math.sqrt(sum(s * s for s in pathways.values()) / len(PATHWAYS))
    confidence, missing = _confidence(site, bool(compared))
    klass = _class(total, confidence)
    parts = [_part(p, pathways[p], total, likelihood[p], waste[p], targets[p]) for p in PATHWAYS]
    explanation = {
        "parts": parts,
        "missing": missing,
        "next_steps": [NEXT_STEPS[m] for m in missing],
        "nearest_settlements": [{"name": n, "population": pop, "km": round(km, 2)}
                                for n, pop, km in site.exposure.settlements],
        "children_exposure": _children(site.exposure),
        "women_exposure": _women(site.exposure),
        "class_rule": _class_rule(total, confidence, klass),
    }
    return Score(site.code, METHOD_NAME, METHOD_VERSION, guideline_set, pathways,
                 hazard=100.0 * max(likelihood[p]["value"] * waste[p]["value"] for p in PATHWAYS),
                 exposure=100.0 * max(t["value"] for t in targets.values()),
                 total=total, priority_class=klass, confidence=confidence, explanation=explanation)


# ---- likelihood of release -----------------------------------------------------------------
def _likelihood(site: SiteInputs, pathway: str, compared: list[tuple[Result, float]]) -> dict[str, Any]:
    media = value("pathway_media")[pathway]
    observed = [(r, ratio) for r, ratio in compared if r.medium in media and ratio > 1 and r.qualifier != "<"]
    if observed:
        worst, ratio = max(observed, key=lambda pair: pair[1])
        return {"value": 1.0, "kind": "observed",
                "data": f"{worst.contaminant} in {worst.medium} at {ratio:.1f}x the guideline"}
    containment = value("potential_release_by_containment")[site.containment]
    site_type = value("site_type_factor")[site.activity]
    mobility = max((value("mobility").get(s.group, value("mobility")["other"])[pathway] for s in site.substances),
                   default=value("mobility")["other"][pathway])
    return {"value": containment * site_type * mobility, "kind": "potential",
            "data": f"containment {site.containment} ({containment}), {site.activity} ({site_type}), "
                    f"mobility {mobility}"}


def _ratio(result: Result) -> float | None:
    """Measured / guideline in the same unit; results below detection count at a fraction of the limit."""
    if result.guideline is None or result.guideline <= 0:
        return None
    measured = result.value
    if result.qualifier == "<":
        measured = (result.detection_limit or result.value) * value("non_detect_fraction")
    return measured / result.guideline


# ---- waste characteristics -----------------------------------------------------------------
def _intrinsic_waste(site: SiteInputs) -> dict[str, tuple[float, str]]:
    """The waste terms that do not depend on the pathway, computed once per site."""
    return {"toxicity": _toxicity(site), "persistence": _persistence(site), "quantity": _quantity(site)}


def _waste(pathway: str, intrinsic: dict[str, tuple[float, str]], compared: list[tuple[Result, float]]) -> dict[str, Any]:
    weights = value("waste_characteristics_weights")
    parts = dict(intrinsic, exceedance=_exceedance(pathway, compared))
    terms = {k: v for k, (v, _) in parts.items()}
    combined = math.exp(sum(weights[k] * math.log(max(v, 1e-9)) for k, v in terms.items()))
    return {"value": combined, "terms": terms, "data": {k: data for k, (_, data) in parts.items()}}


def _toxicity(site: SiteInputs) -> tuple[float, str]:
    table, default = value("toxicity"), value("default_toxicity")
    if not site.substances:
        return default, "no contaminant recorded (default)"
    worst = max(site.substances, key=lambda s: table.get(s.code, default))
    return table.get(worst.code, default), worst.name


def _persistence(site: SiteInputs) -> tuple[float, str]:
    table = value("persistence")

    def of(s: Substance) -> float:
        if s.stockholm:
            return table["stockholm"]
        return table.get(s.code, table.get(s.group, table["default"]))

    if not site.substances:
        return table["default"], "no contaminant recorded (default)"
    worst = max(site.substances, key=of)
    return of(worst), worst.name


def _quantity(site: SiteInputs) -> tuple[float, str]:
    scales = value("quantity_scale")
    known = [(site.waste_mass_t, "waste_mass_t", "t of waste"), (site.area_ha, "area_ha", "ha"),
             (_contaminant_tonnes(site), "contaminant_t", "t of contaminant")]
    factors = [(_log_scale(v, *scales[key]), f"{v:,.6g} {unit}") for v, key, unit in known if v]
    if not factors:
        return value("default_quantity"), "unknown (default)"
    return max(factors)


def _contaminant_tonnes(site: SiteInputs) -> float | None:
    tonnes = [s.quantity_t for s in site.substances if s.quantity_t]
    return sum(tonnes) if tonnes else None


def _log_scale(amount: float, low: float, high: float) -> float:
    """0.2 at ``low``, 1 at ``high``, log-linear between; never below 0.05."""
    if amount <= 0:
        return 0.05
    share = (math.log10(amount) - math.log10(low)) / (math.log10(high) - math.log10(low))
    return min(1.0, max(0.05, 0.2 + 0.8 * share))


def _exceedance(pathway: str, compared: list[tuple[Result, float]]) -> tuple[float, str]:
    media = value("pathway_media")[pathway]
    ratios = [(r, ratio) for r, ratio in compared if r.medium in media] or compared
    if not ratios:
        return value("default_exceedance"), "no result comparable with the guideline set (default)"
    result, ratio = max(ratios, key=lambda pair: pair[1])
    return _exceedance_factor(ratio), f"{result.contaminant} in {result.medium}: {ratio:.3g}x the guideline"


def _exceedance_factor(ratio: float) -> float:
    """Half the ratio below the guideline; 0.5 at the guideline, +0.25 per tenfold above, capped at 1."""
    if ratio <= 1:
        return max(0.05, 0.5 * ratio)
    return min(1.0, 0.5 + 0.25 * math.log10(ratio))


# ---- targets -------------------------------------------------------------------------------
def _targets(site: SiteInputs, pathway: str, sensitivity: float) -> dict[str, Any]:
    people, data = _weighted_people(site.exposure, pathway, sensitivity)
    if pathway == "groundwater":
        people, data = _groundwater_users(site.exposure, people, data)
    if pathway in ("soil", "air"):
        extra, sens_data = _sensitive_equivalents(site.exposure)
        people, data = people + extra, data + sens_data
    factor = _population_factor(people)
    if pathway == "surface_water":
        factor, data = _surface_water(site.exposure, factor, data)
    if pathway == "soil" and site.exposure.farmland_nearby:
        factor, data = min(1.0, factor + value("farmland_bonus")), data + ["farmland within 1.6 km"]
    return {"value": factor, "weighted_people": round(people, 1), "data": data}


def _sensitivity() -> float:
    """How much one resident counts, children and women of reproductive age weighing more."""
    return 1 + value("children_share") * (value("children_weight") - 1) \
        + value("women_reproductive_share") * (value("women_weight") - 1)


def _weighted_people(exposure: Exposure, pathway: str, sensitivity: float) -> tuple[float, list[str]]:
    rings = value("pathway_rings")[pathway]
    weights, edges = value("ring_weights"), value("ring_edges_km")
    people = sum(w * p for w, p in zip(weights[:rings], exposure.ring_population[:rings])) * sensitivity
    counted = sum(exposure.ring_population[:rings])
    data = [f"{counted:,.0f} people within {edges[rings - 1]:g} km"]
    if exposure.settlements:
        name, population, km = exposure.settlements[0]
        data.append(f"nearest settlement {name} ({population:,.0f} people, {km:.1f} km)")
    return people, data


def _groundwater_users(exposure: Exposure, people: float, data: list[str]) -> tuple[float, list[str]]:
    if "well" in exposure.layers or "intake" in exposure.layers:
        wells = sum(w * n for w, n in zip(value("ring_weights"), exposure.ring_wells))
        return wells * value("well_person_equivalents"), data + [f"{sum(exposure.ring_wells):.0f} wells/intakes within 6.4 km"]
    share = value("groundwater_use_share")
    return people * share, data + [f"no well layer: {share:.0%} of people assumed to drink groundwater"]


def _sensitive_equivalents(exposure: Exposure) -> tuple[float, list[str]]:
    equivalents = value("sensitive_person_equivalents")
    weight = {"school": value("children_weight"), "kindergarten": value("children_weight"),
              "maternity": value("women_weight"), "hospital": 1.0}
    people = sum(equivalents[k] * weight[k] * n for k, n in exposure.sensitive.items() if k in equivalents)
    listed = [f"{n} {k}(s) within {value('sensitive_radius_km'):g} km" for k, n in exposure.sensitive.items() if n]
    return people, listed


def _population_factor(people: float) -> float:
    """Log scale: 0 for nobody, 1 at the declared population scale."""
    return min(1.0, math.log10(1 + max(people, 0.0)) / math.log10(1 + value("population_scale")))


def _surface_water(exposure: Exposure, factor: float, data: list[str]) -> tuple[float, list[str]]:
    limit = value("surface_water_limit_km")
    if exposure.surface_water_km is None or exposure.surface_water_km > limit:
        return 0.0, data + [f"no river or lake within {limit:g} km"]
    closeness = 1 - exposure.surface_water_km / limit
    name = exposure.surface_water_name or "unnamed water body"
    return max(factor, 0.3) * closeness, data + [f"{name} at {exposure.surface_water_km:.1f} km"]


def _children(exposure: Exposure) -> dict[str, Any]:
    residents = sum(exposure.ring_population[:3]) * value("children_share")
    places = {k: exposure.sensitive.get(k, 0) for k in ("school", "kindergarten")}
    return {"children_within_1_6_km": round(residents), **places, "weight": value("children_weight")}


def _women(exposure: Exposure) -> dict[str, Any]:
    residents = sum(exposure.ring_population[:3]) * value("women_reproductive_share")
    return {"women_15_49_within_1_6_km": round(residents), "maternity": exposure.sensitive.get("maternity", 0),
            "weight": value("women_weight")}


# ---- confidence and class ------------------------------------------------------------------
def _confidence(site: SiteInputs, measured: bool) -> tuple[float, list[str]]:
    weights = value("confidence_inputs")
    known = {
        "contaminants_identified": any(s.confirmed for s in site.substances),
        "concentrations_measured": measured,
        "containment": site.containment != "unknown",
        "waste_quantity": bool(site.waste_mass_t or site.area_ha or _contaminant_tonnes(site)),
        "location_precision": site.location_precision in ("facility", "approximate"),
        "population_layer": "settlement" in site.exposure.layers,
        "surface_water_layer": bool({"river", "lake"} & site.exposure.layers),
        "wells_layer": bool({"well", "intake"} & site.exposure.layers),
        "sensitive_receptors_layer": bool({"school", "kindergarten", "hospital", "maternity"} & site.exposure.layers),
    }
    missing = [name for name, ok in known.items() if not ok]
    share_known = sum(weights[n] for n, ok in known.items() if ok) / sum(weights.values())
    return share_known, missing


def _class(total: float, confidence: float) -> str:
    if 1 - confidence > value("insufficient_share") + 1e-9:
        return "I"
    for klass in ("1", "2", "3"):
        if total >= value("class_thresholds")[klass]:
            return klass
    return "N"


def _class_rule(total: float, confidence: float, klass: str) -> str:
    if klass == "I":
        return (f"{1 - confidence:.0%} of the input weight is defaulted, more than "
                f"{value('insufficient_share'):.0%}: insufficient information")
    if klass == "N":
        return f"total {total:.2f} is below class 3 ({value('class_thresholds')['3']})"
    return f"total {total:.2f} >= {value('class_thresholds')[klass]} (class {klass} threshold)"


def _part(pathway: str, score: float, total: float, likelihood: dict, waste: dict, targets: dict) -> dict[str, Any]:
    share = score * score / (len(PATHWAYS) * total) if total > 0 else 0.0
    return {
        "pathway": pathway, "score": round(score, 4), "contribution": share,
        "factors": [
            {"name": "likelihood", "value": round(likelihood["value"], 4), "kind": likelihood["kind"],
             "data": likelihood["data"]},
            {"name": "waste_characteristics", "value": round(waste["value"], 4),
             "terms": {k: round(v, 4) for k, v in waste["terms"].items()}, "data": waste["data"]},
            {"name": "targets", "value": round(targets["value"], 4), "weighted_people": targets["weighted_people"],
             "data": targets["data"]},
        ],
    }


NEXT_STEPS = {
    "contaminants_identified": "confirm which contaminants are present (site walkover, records of the former operator)",
    "concentrations_measured": "take soil (and water) samples and analyse them against the chosen guideline set",
    "containment": "inspect the site and record the condition of containment",
    "waste_quantity": "estimate the contaminated area or the waste mass",
    "location_precision": "locate the facility itself (GPS at the site) instead of the settlement",
    "population_layer": "load a settlement layer with population (sites layers import --kind settlement)",
    "surface_water_layer": "load rivers and lakes (sites layers import --kind river / lake)",
    "wells_layer": "load drinking-water wells and intakes (sites layers import --kind well / intake)",
    "sensitive_receptors_layer": "load schools, kindergartens and hospitals (sites layers import --kind school ...)",
}
