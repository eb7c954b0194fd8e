"""Site validation: every bad value is refused naming the field, the value and what was expected."""

from __future__ import annotations

import pytest

from sites.errors import InvalidInput
from sites.records import SITE_FIELDS, geometry_sha256, validate_site

GOOD = {"name_en": "Temirtau mercury", "lat": 50.05, "lon": 72.95, "location_precision": "settlement",
        "activity": "chemical_plant"}


def test_a_good_record_gets_defaults():
    cleaned = validate_site(GOOD)
    assert cleaned["stage"] == "suspected" and cleaned["owner_status"] == "unknown"
    assert cleaned["confidential"] is False and set(cleaned) == {f.name for f in SITE_FIELDS}


@pytest.mark.parametrize("field, value, expected_words", [
    ("lat", 91, "between -90 and 90"),
    ("lat", "north", "latitude"),
    ("lon", -181, "between -180 and 180"),
    ("lon", float("nan"), "longitude"),
    ("activity", "bakery", "one of mining_smelting"),
    ("location_precision", "exact", "facility, approximate, settlement"),
    ("stage", "Closed", "suspected"),
    ("waste_mass_t", -1, ">= 0"),
    ("area_ha", "a lot", ">= 0"),
    ("operating_from", 1066, "between 1800"),
    ("code", "PAV-3", "KZ-PAV-0003"),
    ("region_kato", "12", "9-digit KATO"),
    ("remediation_deadline", "next year", "YYYY-MM-DD"),
    ("confidential", "maybe", "true or false"),
    ("colour", "red", "one of the site fields"),
])
def test_bad_values_are_refused_with_field_value_and_expectation(field, value, expected_words):
    with pytest.raises(InvalidInput) as refused:
        validate_site({**GOOD, field: value})
    assert refused.value.field == field
    assert expected_words in refused.value.message
    assert repr(value) in refused.value.message or field == "lon"


def test_missing_required_field_is_named():
    record = dict(GOOD)
    del record["activity"]
    with pytest.raises(InvalidInput, match="activity: expected a value"):
        validate_site(record)


def test_swapped_coordinates_are_explained():
    with pytest.raises(InvalidInput, match="look swapped"):
        validate_site({**GOOD, "lat": 72.95, "lon": 50.05})


def test_point_far_outside_kazakhstan_is_refused():
    with pytest.raises(InvalidInput, match="a point in Kazakhstan"):
        validate_site({**GOOD, "lat": -33.9, "lon": 151.2})


def test_operating_period_must_run_forwards():
    with pytest.raises(InvalidInput, match="operating_to"):
        validate_site({**GOOD, "operating_from": 1990, "operating_to": 1975})


def test_footprint_accepts_wkt_and_geojson_and_refuses_bowties():
    square = "POLYGON((72.9 50.0, 73.0 50.0, 73.0 50.1, 72.9 50.1, 72.9 50.0))"
    assert validate_site({**GOOD, "footprint": square})["footprint"].geom_type == "MultiPolygon"
    geojson = {"type": "Polygon", "coordinates": [[[72.9, 50.0], [73.0, 50.0], [73.0, 50.1], [72.9, 50.0]]]}
    assert validate_site({**GOOD, "footprint": geojson})["footprint"].area > 0
    with pytest.raises(InvalidInput, match="Self-intersection"):
        validate_site({**GOOD, "footprint": "POLYGON((72.9 50, 73 50.1, 73 50, 72.9 50.1, 72.9 50))"})
    with pytest.raises(InvalidInput, match="Polygon or MultiPolygon"):
        validate_site({**GOOD, "footprint": "LINESTRING(72.9 50, 73 50.1)"})
    with pytest.raises(InvalidInput, match="WKT or GeoJSON"):
        validate_site({**GOOD, "footprint": "a square by the river"})


def test_geometry_hash_changes_exactly_with_the_geometry():
    base = geometry_sha256(50.05, 72.95, None)
    assert base == geometry_sha256(50.05, 72.95, None)
    assert base != geometry_sha256(50.0500001, 72.95, None)
    footprint = validate_site({**GOOD, "footprint": "POLYGON((72.9 50, 73 50, 73 50.1, 72.9 50))"})["footprint"]
    assert geometry_sha256(50.05, 72.95, footprint) != base


def test_a_nul_character_is_refused_by_name_before_the_database_sees_it():
    from sites.samples import validate_sample

    with pytest.raises(InvalidInput, match="description.*without NUL"):
        validate_site({**GOOD, "description": "before\x00after"})
    with pytest.raises(InvalidInput, match="note.*without NUL"):
        validate_sample({"contaminant": "hg", "medium": "soil", "value": "1", "unit": "mg/kg", "note": "a\x00b"})
