"""Unit normalisation and sample validation."""

from __future__ import annotations

import pytest

from sites.errors import InvalidInput
from sites.samples import parse_reported, validate_sample, validate_site_contaminant
from sites.units import normalise


@pytest.mark.parametrize("value, unit, medium, expected", [
    (2400, "ug/kg", "soil", (2.4, "mg/kg")),
    (5, "ppm", "sediment", (5.0, "mg/kg")),
    (3, "g/t", "waste", (3.0, "mg/kg")),
    (150, "µg/L", "groundwater", (0.15, "mg/L")),
    (0.5, "мг/кг", "soil", (0.5, "mg/kg")),
    (700, "Bq/kg", "soil", (700.0, "Bq/kg")),
    (12, "ug/m3", "air", (0.012, "mg/m3")),
    (10, "pCi/g", "soil", (370.0, "Bq/kg")),
    (250, "ng/g", "sediment", (0.25, "mg/kg")),
    (5, "pCi/L", "groundwater", (0.185, "Bq/L")),
])
def test_units_convert_to_the_canonical_unit(value, unit, medium, expected):
    result = normalise(value, unit, medium)
    assert result[1] == expected[1] and result[0] == pytest.approx(expected[0])


@pytest.mark.parametrize("unit, medium, message", [
    ("mg/L", "soil", "a unit for soil"),
    ("mg/kg", "groundwater", "a unit for groundwater"),
    ("furlongs", "soil", "one of mg/kg"),
])
def test_units_that_do_not_fit_are_refused(unit, medium, message):
    with pytest.raises(InvalidInput, match=message):
        normalise(1, unit, medium)


def test_sample_validation_reports_fields():
    good = validate_sample({"contaminant": "pb", "medium": "soil", "value": "24,896", "unit": "mg/kg"})
    assert good["value"] == pytest.approx(24.896) and good["qualifier"] == "="
    with pytest.raises(InvalidInput, match="qualifier"):
        validate_sample({"contaminant": "pb", "medium": "soil", "value": 1, "unit": "mg/kg", "qualifier": "~"})
    with pytest.raises(InvalidInput, match="medium"):
        validate_sample({"contaminant": "pb", "medium": "lava", "value": 1, "unit": "mg/kg"})
    with pytest.raises(InvalidInput, match="sampled_year"):
        validate_sample({"contaminant": "pb", "medium": "soil", "value": 1, "unit": "mg/kg", "sampled_year": "1850"})


def test_site_contaminant_validation():
    assert validate_site_contaminant({"contaminant": "hg", "medium": "soil"})["status"] == "suspected"
    with pytest.raises(InvalidInput, match="quantity_t"):
        validate_site_contaminant({"contaminant": "hg", "medium": "soil", "quantity_t": "lots"})
    with pytest.raises(InvalidInput, match="status"):
        validate_site_contaminant({"contaminant": "hg", "medium": "soil", "status": "rumoured"})


@pytest.mark.parametrize("text, limit, expected", [
    ("0,35", None, ("=", 0.35, None)),
    ("12.5", None, ("=", 12.5, None)),
    ("<0.05", None, ("<", 0.05, 0.05)),
    ("< 0,05", 0.01, ("<", 0.05, 0.01)),
    ("≤0.2", None, ("<", 0.2, 0.2)),
    ("> 100", None, (">", 100.0, None)),
    ("1.5e-3", None, ("=", 0.0015, None)),
    ("н/о", 0.02, ("<", 0.02, 0.02)),
    ("ND", 0.5, ("<", 0.5, 0.5)),
    ("Не обнаружено", 0.1, ("<", 0.1, 0.1)),
    ("не обнаружен", 0.1, ("<", 0.1, 0.1)),
    ("< LOD", 0.2, ("<", 0.2, 0.2)),
    (7, None, ("=", 7.0, None)),
])
def test_results_are_read_as_laboratories_write_them(text, limit, expected):
    assert parse_reported(text, limit) == expected


@pytest.mark.parametrize("text, limit, message", [
    ("н/о", None, "detection limit"),
    ("about 5", None, "a number, optionally with < or >"),
    ("5 mg/kg", None, "received '5 mg/kg'"),
    ("", None, "a number"),
])
def test_unreadable_results_are_refused(text, limit, message):
    with pytest.raises(InvalidInput, match=message):
        parse_reported(text, limit)


def test_a_sample_given_as_lab_text_keeps_its_qualifier_and_limit():
    row = validate_sample({"contaminant": "hg", "medium": "soil", "value": "<0,05", "unit": "мг/кг"})
    assert (row["qualifier"], row["value"], row["detection_limit"], row["unit_canonical"]) == ("<", 0.05, 0.05, "mg/kg")
    row = validate_sample({"contaminant": "hg", "medium": "soil", "value": "н/о", "detection_limit": 0.01,
                           "unit": "mg/kg"})
    assert (row["qualifier"], row["value"]) == ("<", 0.01)
