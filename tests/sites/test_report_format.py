"""Formatting for printed reports, and a catalogue word for every value a report looks up by a computed key."""

from __future__ import annotations

import datetime as dt

import pytest

from sites import i18n, vocab
from sites.report_format import (
    codes, csv_cell, moment, number, people_within, printable, ratio, result, share, significant,
)
from sites.scoring.method import NEXT_STEPS

NBSP = "\u00a0"


@pytest.mark.parametrize("value, lang, digits, expected", [
    (170600, "en", 0, "170,600"), (170600, "ru", 0, f"170{NBSP}600"), (1234.5, "kk", 1, f"1{NBSP}234,5"),
    (0.5, "en", 2, "0.50"), (None, "en", 0, ""), (float("nan"), "ru", 1, ""),
])
def test_numbers_use_the_languages_separators(value, lang, digits, expected):
    assert number(value, lang, digits) == expected


@pytest.mark.parametrize("value, lang, expected", [
    (47.619, "en", "47.6"), (0.0238095, "en", "0.0238"), (2.1, "ru", "2,1"), (69.0, "en", "69"),
    (9.4, "kk", "9,4"), (12438, "en", "12,438"), (0, "en", "0"), (None, "en", ""),
])
def test_significant_figures_drop_trailing_zeros(value, lang, expected):
    assert significant(value, lang) == expected


def test_results_show_qualifiers_and_non_detects_as_lod():
    assert result("=", 47.6, "mg/kg", "en") == f"47.6{NBSP}mg/kg"
    assert result(">", 100, "mg/kg", "en") == f">100{NBSP}mg/kg"
    assert result("<", 0.05, "mg/kg", "ru") == f"<LOD (0,05{NBSP}mg/kg)"
    assert ratio("<", 0.05, 2.1, "en") == "<0.0238" and ratio(">", 100, 2.1, "en") == ">47.6"
    assert ratio("=", 5, None, "en") == "" and ratio("=", None, 2.1, "en") == ""
    assert share(0.7, "en") == f"70{NBSP}%"


def test_people_within_reads_the_widest_ring_the_explanation_counted():
    explanation = {"parts": [
        {"factors": [{"name": "targets", "data": ["20,106 people within 1.6 km", "nearest settlement X"]}]},
        {"factors": [{"name": "likelihood", "data": "9 people within 99 km"},
                     {"name": "targets", "data": ["170,600 people within 6.4 km"]}]}]}
    assert people_within(explanation) == (170600, 6.4)
    assert people_within({}) is None and people_within(None) is None


def test_printable_text_keeps_markup_and_drops_line_breaks():
    assert printable("<b>x</b>\n$x$\t{{ 7*7 }}") == "<b>x</b> $x$ {{ 7*7 }}"
    assert printable("abcdef", 4) == "abc…"


@pytest.mark.parametrize("cell, expected", [("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("+1", "'+1"),
                                            ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("KZ-PAV-0001", "KZ-PAV-0001"),
                                            (3, 3)])
def test_csv_cells_that_a_spreadsheet_would_run_are_kept_as_text(cell, expected):
    assert csv_cell(cell) == expected


def test_moments_are_printed_in_utc_and_codes_once_each():
    almaty = dt.timezone(dt.timedelta(hours=5))
    assert moment(dt.datetime(2024, 5, 17, 15, 30, tzinfo=almaty)) == "2024-05-17 10:30 UTC"
    assert moment(dt.date(2024, 5, 17)) == "2024-05-17" and moment(None) == ""
    assert codes(["KZ-A", "KZ-B", "KZ-A"]) == "KZ-A KZ-B"


@pytest.mark.parametrize("prefix, values", [
    ("report.activity", vocab.ACTIVITY), ("report.owner", vocab.OWNER_STATUS),
    ("report.containment", vocab.CONTAINMENT), ("report.access", vocab.ACCESSIBILITY),
    ("report.medium", vocab.MEDIUM), ("report.cstatus", vocab.CONTAMINANT_STATUS),
    ("report.action", vocab.AUDIT_ACTION), ("stage", vocab.STAGE), ("precision", vocab.LOCATION_PRECISION),
    ("report.input", tuple(NEXT_STEPS)), ("report.next", tuple(NEXT_STEPS)),
    ("report.entity", ("site", "site_contaminant", "sample", "inspection", "attachment")),
    ("report.convention", ("Minamata", "Stockholm", "Basel", "Rotterdam")),
    ("report.convention.short", ("Minamata", "Stockholm", "Basel", "Rotterdam")),
    ("report.measure", ("sites", "sites_pcb", "sites_pesticide", "sites_dioxin", "waste_mass_t", "area_ha",
                        "contaminant_t")),
    ("report.kind", ("observed", "potential")), ("report.term", ("toxicity", "persistence", "quantity")),
    ("pathway", ("groundwater", "surface_water", "soil", "air")), ("class", vocab.PRIORITY_CLASS),
])
def test_every_value_a_report_words_by_a_computed_key_is_in_the_catalogue(prefix, values):
    # The catalogue test finds literal keys only; these keys are built from stored values.
    missing = [f"{prefix}.{v}" for v in values if f"{prefix}.{v}" not in i18n.catalogue()]
    assert missing == []
