"""Factories for test records, with plain defaults a test overrides."""

from __future__ import annotations

from typing import Any


def site_data(**overrides: Any) -> dict[str, Any]:
    """A valid new site in Pavlodar region unless overridden."""
    data = {
        "name_en": "Test chlor-alkali plant",
        "lat": 52.27, "lon": 76.97,
        "location_precision": "settlement",
        "region_kato": "550000000",
        "activity": "chemical_plant",
        "stage": "suspected",
    }
    data.update(overrides)
    return data
