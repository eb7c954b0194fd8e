"""Controlled vocabularies of the register; the database refuses any value not listed here."""

from __future__ import annotations

LOCATION_PRECISION = ("facility", "approximate", "settlement")

ACTIVITY = (
    "mining_smelting",
    "chemical_plant",
    "pesticide_store",
    "uranium_radioactive",
    "military_test_site",
    "oil_gas",
    "landfill_dump",
    "energy_ash",
    "other",
)

STAGE = (
    "suspected",
    "registered",
    "investigated",
    "remediation_planned",
    "under_remediation",
    "remediated_monitoring",
    "closed",
)

OWNER_STATUS = ("state", "private", "ownerless", "unknown")
CONTAINMENT = ("none", "poor", "partial", "good", "unknown")
ACCESSIBILITY = ("open", "restricted", "fenced", "unknown")

MEDIUM = ("soil", "sediment", "groundwater", "surface_water", "air", "biota", "waste")
CONTAMINANT_STATUS = ("suspected", "confirmed")
QUALIFIER = ("=", "<", ">")

CONTAMINANT_GROUP = (
    "metal",
    "radionuclide",
    "pop_pesticide",
    "pcb",
    "dioxin_furan",
    "petroleum",
    "pah",
    "rocket_fuel",
    "solvent",
    "gas",
    "other",
)

PRIORITY_CLASS = ("1", "2", "3", "N", "I")

ROLES = ("viewer", "inspector", "planner", "admin")

AUDIT_ACTION = ("insert", "update", "archive", "restore")

RECEPTOR_KIND = (
    "settlement",
    "school",
    "kindergarten",
    "hospital",
    "maternity",
    "well",
    "intake",
    "river",
    "lake",
    "farmland",
    "protected_area",
)

BOUNDARY_LEVEL = ("region", "district")

