"""Declared factors of the default screening method: every weight, table and threshold with unit and source.

Tags follow ``SCORING-SOURCES.md``: V = read in the cited source, P = consistent with verified cells,
U = the method's own judgement or an unverified value, stated as such in docs/scoring.md.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

METHOD_NAME = "kz-screening"
METHOD_VERSION = "1.0.0"
PATHWAYS = ("groundwater", "surface_water", "soil", "air")


@dataclass(frozen=True)
class Factor:
    """One declared element of the method."""

    name: str
    value: Any
    unit: str
    tag: str
    source: str
    help: str


F = Factor
FACTORS: tuple[Factor, ...] = (
    F("ring_edges_km", (0.4, 0.8, 1.6, 3.2, 4.8, 6.4), "km", "V",
      "HRS 40 CFR 300 App. A distance rings 0-1/4, 1/4-1/2, 1/2-1, 1-2, 2-3, 3-4 miles, converted to km",
      "Outer edges of the distance rings in which people and wells are counted"),
    F("ring_weights", (1.0, 0.62, 0.32, 0.18, 0.13, 0.08), "multiplier", "P",
      "HRS distance-weighted population table, implied ring weights (SCORING-SOURCES.md)",
      "Weight of a person (or well) in each ring: nearer counts more"),
    F("pathway_rings", {"groundwater": 6, "surface_water": 6, "soil": 3, "air": 6}, "rings", "U",
      "HRS counts groundwater and air targets to 4 miles; soil exposure targets nearby; own choice of 1.6 km",
      "How many rings each pathway's population target uses"),
    F("settlement_density_per_km2", 2500, "people per km2", "U",
      "own assumption of the built-up density of Kazakh towns; a settlement is a disk of this density",
      "Spreads each settlement's population over a disk, so a town counts as wide as it is"),
    F("population_scale", 100_000, "person-equivalents", "U",
      "own choice: a city district (100,000 weighted people) saturates the target factor",
      "Weighted population at which the target factor reaches 1 (log scale, like HRS's population tables)"),
    F("groundwater_use_share", 0.5, "share of people", "U",
      "own assumption while no well layer is loaded: half the nearby population may drink local groundwater",
      "Share of ring population counted as groundwater users when wells are unknown (input defaulted)"),
    F("well_person_equivalents", 100, "people per well", "U",
      "own assumption: a village well or intake serves about 100 people when the layer gives no population",
      "People counted for each drinking-water well or intake in the rings"),
    F("surface_water_limit_km", 5.0, "km", "U",
      "own choice, shorter than HRS's 15-mile downstream target distance because rivers are not routed",
      "Surface water further than this from the site is not a target"),
    F("sensitive_radius_km", 1.6, "km", "U", "own choice: the first three HRS rings (1 mile)",
      "Radius within which schools, kindergartens, hospitals and maternity units count"),
    F("sensitive_person_equivalents",
      {"school": 500, "kindergarten": 150, "hospital": 200, "maternity": 100}, "people", "U",
      "own assumption of typical occupancy",
      "People represented by one sensitive receptor"),
    F("children_weight", 3.0, "multiplier", "V",
      "US EPA 2005 Supplemental Guidance for Assessing Susceptibility from Early-Life Exposure to Carcinogens: "
      "age-dependent adjustment factor 3 for ages 2-16",
      "Extra weight of children's exposure (schools, kindergartens, children's share of residents)"),
    F("women_weight", 2.0, "multiplier", "U",
      "own judgement: developmental toxicants (mercury, lead) harm the unborn child",
      "Extra weight of women of reproductive age and maternity units"),
    F("children_share", 0.30, "share of residents", "U",
      "approximate share of under-16s in Kazakhstan's population; to be checked against the Bureau of National "
      "Statistics", "Share of settlement population counted as children"),
    F("women_reproductive_share", 0.24, "share of residents", "U",
      "approximate share of women aged 15-49; to be checked against the Bureau of National Statistics",
      "Share of settlement population counted as women of reproductive age"),
    F("farmland_bonus", 0.1, "target factor", "U", "own choice", "Added to the soil target when farmland lies within 1.6 km"),
    F("potential_release_by_containment",
      {"none": 0.8, "poor": 0.6, "partial": 0.4, "good": 0.15, "unknown": 0.5}, "likelihood", "U",
      "CCME NCSCS uses Known (measured) versus Potential (inferred, fewer points); values are own judgement",
      "Likelihood of release when no sample shows one"),
    F("site_type_factor",
      {"mining_smelting": 1.0, "chemical_plant": 1.0, "pesticide_store": 1.0, "uranium_radioactive": 1.0,
       "military_test_site": 0.8, "oil_gas": 0.9, "landfill_dump": 0.9, "energy_ash": 0.8, "other": 0.7},
      "multiplier", "U", "own judgement of how often each activity leaves uncontained waste",
      "Scales the potential release by site type"),
    F("mobility",
      {"metal": {"groundwater": 0.5, "surface_water": 0.7, "soil": 1.0, "air": 0.6},
       "radionuclide": {"groundwater": 0.5, "surface_water": 0.6, "soil": 1.0, "air": 0.6},
       "pop_pesticide": {"groundwater": 0.4, "surface_water": 0.6, "soil": 1.0, "air": 0.7},
       "pcb": {"groundwater": 0.2, "surface_water": 0.5, "soil": 1.0, "air": 0.5},
       "dioxin_furan": {"groundwater": 0.2, "surface_water": 0.5, "soil": 1.0, "air": 0.5},
       "petroleum": {"groundwater": 0.8, "surface_water": 0.8, "soil": 1.0, "air": 0.5},
       "pah": {"groundwater": 0.3, "surface_water": 0.5, "soil": 1.0, "air": 0.5},
       "rocket_fuel": {"groundwater": 1.0, "surface_water": 0.9, "soil": 1.0, "air": 0.8},
       "solvent": {"groundwater": 1.0, "surface_water": 0.8, "soil": 0.8, "air": 0.9},
       "gas": {"groundwater": 0.1, "surface_water": 0.1, "soil": 0.1, "air": 1.0},
       "other": {"groundwater": 0.5, "surface_water": 0.5, "soil": 1.0, "air": 0.5}},
      "multiplier", "U", "own judgement from solubility and sorption of each group",
      "How readily each contaminant group moves along each pathway"),
    F("pathway_media",
      {"groundwater": ("groundwater",), "surface_water": ("surface_water", "sediment"),
       "soil": ("soil", "waste"), "air": ("air",)}, "media", "U",
      "HRS pathways mapped onto sampled media", "Which sampled media show a release into each pathway"),
    F("toxicity",
      {"hg": 1.0, "as": 1.0, "cd": 1.0, "cr6": 1.0, "pb": 0.9, "be": 1.0, "tl": 0.9, "sb": 0.6, "ni": 0.6,
       "co": 0.5, "cu": 0.4, "zn": 0.3, "mo": 0.4, "mn": 0.4, "v": 0.5, "cr": 0.5, "b": 0.3, "f": 0.4,
       "u": 0.9, "ra226": 1.0, "th230": 1.0, "th232": 0.9, "cs137": 1.0, "sr90": 1.0, "pu239": 1.0,
       "pcb": 1.0, "dioxins": 1.0, "ddt": 0.8, "hch": 0.8, "lindane": 0.8, "hcb": 0.9, "toxaphene": 0.8,
       "dieldrin": 0.9, "aldrin": 0.9, "heptachlor": 0.8, "chlordane": 0.8, "pesticides_mixed": 0.8,
       "bap": 0.9, "tph": 0.4, "udmh": 0.9, "ndma": 1.0, "so2": 0.5}, "0-1 (1 = most toxic)", "U",
      "ordering follows HRS toxicity factors (arsenic 10,000 [V]); other values own judgement on a log scale",
      "Toxicity of each substance; unknown substances take default_toxicity"),
    F("default_toxicity", 0.5, "0-1", "U", "own choice", "Toxicity used for a substance not in the table"),
    F("persistence", {"stockholm": 1.0, "hg": 1.0, "metal": 0.8, "radionuclide": 0.9, "petroleum": 0.5,
                      "rocket_fuel": 0.6, "default": 0.6}, "0-1", "U",
      "Stockholm POPs and mercury are persistent and bioaccumulate (Stockholm and Minamata Conventions); "
      "other values own judgement", "Persistence and bioaccumulation of the most persistent substance"),
    F("waste_characteristics_weights", {"toxicity": 0.3, "persistence": 0.2, "quantity": 0.2, "exceedance": 0.3},
      "exponent", "U", "own choice: weighted geometric mean, so no single factor zeroes the others",
      "Weights combining toxicity, persistence, quantity and exceedance"),
    F("quantity_scale", {"waste_mass_t": (1.0, 1e6), "area_ha": (0.1, 100.0), "contaminant_t": (0.01, 100.0)},
      "(low, saturation)", "U", "own choice of log ranges", "Quantity maps from 0.2 at low to 1 at saturation"),
    F("default_quantity", 0.5, "0-1", "U", "own choice", "Quantity factor when no quantity is known (input defaulted)"),
    F("default_exceedance", 0.5, "0-1", "U", "own choice: an unmeasured site sits at the guideline",
      "Exceedance factor when no sample can be compared with the chosen guideline set (input defaulted)"),
    F("non_detect_fraction", 0.5, "share of detection limit", "U",
      "common convention (half the detection limit); a result below detection never shows a release",
      "Value used for a result reported below the detection limit"),
    F("class_thresholds", {"1": 28.5, "2": 15.0, "3": 7.5}, "score 0-100", "P",
      "class 1 at 28.50, the HRS NPL eligibility score [V]; each lower class starts at about half the one above",
      "Lowest total of each priority class; below class 3 the class is N"),
    F("insufficient_share", 0.30, "share of input weight", "V",
      "World Bank / Canadian POPs Trust Fund tool: more than 30% 'do not know' answers = insufficient information",
      "Above this share of defaulted inputs a site is class I"),
    F("confidence_inputs",
      {"contaminants_identified": 2.0, "concentrations_measured": 2.0, "containment": 1.0, "waste_quantity": 1.0,
       "location_precision": 1.0, "population_layer": 1.0, "surface_water_layer": 1.0, "wells_layer": 0.5,
       "sensitive_receptors_layer": 0.5}, "weight", "U", "own choice: site facts weigh more than national layers",
      "Inputs whose measured-or-defaulted status makes up the confidence"),
)

BY_NAME = {f.name: f for f in FACTORS}
# What-if values for the current calculation only (sites.scoring.whatif.scenario); empty for the official method.
OVERRIDES: ContextVar[dict[str, Any]] = ContextVar("scoring_overrides", default={})


def value(name: str) -> Any:
    """The declared value of factor ``name``, or a what-if scenario's value while one is being computed."""
    overrides = OVERRIDES.get()
    return overrides[name] if name in overrides else BY_NAME[name].value
