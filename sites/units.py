"""Measurement units: which ones fit each medium, and conversion to the medium's canonical unit."""

from __future__ import annotations

from sites.errors import InvalidInput

# unit -> (dimension, factor to the dimension's canonical unit)
UNITS: dict[str, tuple[str, float]] = {
    "mg/kg": ("mass_fraction", 1.0),
    "ug/kg": ("mass_fraction", 1e-3),
    "ng/kg": ("mass_fraction", 1e-6),
    "g/kg": ("mass_fraction", 1e3),
    "g/t": ("mass_fraction", 1.0),
    "ppm": ("mass_fraction", 1.0),
    "ppb": ("mass_fraction", 1e-3),
    "%": ("mass_fraction", 1e4),
    "ug/g": ("mass_fraction", 1.0),
    "ng/g": ("mass_fraction", 1e-3),
    "pg/g": ("mass_fraction", 1e-6),
    "mg/L": ("mass_concentration", 1.0),
    "ug/L": ("mass_concentration", 1e-3),
    "ng/L": ("mass_concentration", 1e-6),
    "g/L": ("mass_concentration", 1e3),
    "ng/mL": ("mass_concentration", 1e-3),
    "pg/L": ("mass_concentration", 1e-9),
    "mg/m3": ("air_concentration", 1.0),
    "ug/m3": ("air_concentration", 1e-3),
    "ng/m3": ("air_concentration", 1e-6),
    "Bq/kg": ("specific_activity", 1.0),
    "kBq/kg": ("specific_activity", 1e3),
    "pCi/g": ("specific_activity", 37.0),  # 1 pCi = 0.037 Bq, per gram = 37 Bq/kg (US EPA reports use pCi)
    "Bq/L": ("volume_activity", 1.0),
    "pCi/L": ("volume_activity", 0.037),
    "uSv/h": ("dose_rate", 1.0),
}

CANONICAL = {
    "mass_fraction": "mg/kg",
    "mass_concentration": "mg/L",
    "air_concentration": "mg/m3",
    "specific_activity": "Bq/kg",
    "volume_activity": "Bq/L",
    "dose_rate": "uSv/h",
}

# Dimensions that make sense for each sampled medium.
MEDIUM_DIMENSIONS: dict[str, frozenset[str]] = {
    "soil": frozenset({"mass_fraction", "specific_activity", "dose_rate"}),
    "sediment": frozenset({"mass_fraction", "specific_activity", "dose_rate"}),
    # Waste includes liquid tailings pulp and sludge-pond water, reported per litre.
    "waste": frozenset({"mass_fraction", "specific_activity", "dose_rate", "mass_concentration", "volume_activity"}),
    "biota": frozenset({"mass_fraction", "specific_activity"}),
    "groundwater": frozenset({"mass_concentration", "volume_activity"}),
    "surface_water": frozenset({"mass_concentration", "volume_activity"}),
    "air": frozenset({"air_concentration", "dose_rate"}),
}

# Spellings seen in lab reports, mapped to the names above.
ALIASES = {
    "µg/kg": "ug/kg", "мкг/кг": "ug/kg", "мг/кг": "mg/kg", "нг/кг": "ng/kg", "г/т": "g/t",
    "µg/l": "ug/L", "ug/l": "ug/L", "mg/l": "mg/L", "ng/l": "ng/L", "мг/л": "mg/L", "мкг/л": "ug/L",
    "мг/дм3": "mg/L", "mg/dm3": "mg/L", "µg/m3": "ug/m3", "мг/м3": "mg/m3", "мкг/м3": "ug/m3",
    "µg/g": "ug/g", "мкг/г": "ug/g", "нг/г": "ng/g", "ng/ml": "ng/mL", "pci/g": "pCi/g", "pci/l": "pCi/L",
    "bq/kg": "Bq/kg", "бк/кг": "Bq/kg", "µsv/h": "uSv/h", "мкзв/ч": "uSv/h", "bq/l": "Bq/L",
}


def canonical_unit(unit: str) -> str:
    """Return the register's spelling of ``unit`` or raise naming the accepted units."""
    name = unit.strip() if isinstance(unit, str) else unit
    if name in UNITS:
        return name
    alias = ALIASES.get(str(name).lower())
    if alias is None:
        raise InvalidInput("unit", unit, "one of " + ", ".join(UNITS))
    return alias


def normalise(value: float, unit: str, medium: str) -> tuple[float, str]:
    """Convert ``value`` in ``unit`` to the canonical unit of its dimension, checking it fits ``medium``."""
    name = canonical_unit(unit)
    dimension, factor = UNITS[name]
    fitting = MEDIUM_DIMENSIONS.get(medium)
    if fitting is None:
        raise InvalidInput("medium", medium, "one of " + ", ".join(MEDIUM_DIMENSIONS))
    if dimension not in fitting:
        accepted = ", ".join(u for u, (d, _) in UNITS.items() if d in fitting)
        raise InvalidInput("unit", unit, f"a unit for {medium}: {accepted}")
    return value * factor, CANONICAL[dimension]
