"""Field work from the command line: coordinates in any form, the duplicate check, samples with exceedance."""

from __future__ import annotations

import json

import pytest

from tests.conftest import cli_invoker


@pytest.fixture
def run(db_url, monkeypatch):
    invoke = cli_invoker(db_url, monkeypatch)
    invoke("demo")
    return invoke


SITE = ("name_en=Pesticide store at Shieli", "activity=pesticide_store", "location_precision=approximate",
        "region_kato=430000000")


def test_a_site_is_added_from_degrees_minutes_seconds(run):
    added = run("site", "add", *SITE, "--at", """44°10'12"N 66°45'00"E""")
    assert added.exit_code == 0, added.output
    code = added.output.split()[1]
    shown = json.loads(run("site", "show", code).output)
    assert (shown["lat"], shown["lon"]) == (pytest.approx(44.17), pytest.approx(66.75))


def test_a_site_next_to_a_stored_one_is_stopped_until_the_inspector_says_what_it_is(run):
    first = run("site", "add", *SITE, "--at", "44.17, 66.75")
    code = first.output.split()[1]
    again = run("site", "add", *SITE, "--at", "44.1710, 66.7505")
    assert again.exit_code == 1 and code in again.output and "m away" in again.output
    assert "Nothing was added" in again.output
    nearby = run("site", "nearby", "--at", "44.1710, 66.7505")
    assert code in nearby.output
    linked = run("site", "add", *SITE, "--at", "44.1710, 66.7505", "--related-to", code)
    assert linked.exit_code == 0
    note = json.loads(run("site", "show", linked.output.split()[1]).output)["location_note"]
    assert code in note
    assert run("site", "add", *SITE, "--at", "44.1711, 66.7506", "--new-site").exit_code == 0


def test_unreadable_coordinates_are_refused_with_the_accepted_forms(run):
    refused = run("site", "add", *SITE, "--at", "near the old railway station")
    assert refused.exit_code == 1 and "received 'near the old railway station'" in refused.output


def test_samples_are_added_as_the_lab_wrote_them_and_listed(run):
    shown = run("sample", "add", "KZ-PAV-0001", "contaminant=hg", "medium=soil", "value=4,2", "unit=мг/кг")
    assert shown.exit_code == 0 and "2.00 x the guideline value 2.1 mg/kg (kz_pdk_soil)" in shown.output
    below = run("sample", "add", "KZ-PAV-0001", "contaminant=hg", "medium=soil", "value=н/о",
                "detection_limit=0.01", "unit=mg/kg")
    assert below.exit_code == 0 and "<0.01 mg/kg" in below.output
    wrong = run("sample", "add", "KZ-PAV-0001", "contaminant=hg", "medium=soil", "value=3", "unit=mg/L")
    assert wrong.exit_code == 1 and "a unit for soil" in wrong.output
    listed = json.loads(run("sample", "list", "KZ-PAV-0001", "--json").output)
    assert sum(1 for r in listed if r["contaminant"] == "hg" and r["value"] in (4.2, 0.01)) == 2
    assert run("sample", "list", "KZ-XXX-9999").exit_code == 1


def test_a_non_numeric_latitude_is_refused_with_its_message(run):
    refused = run("site", "add", *SITE, "lat=north", "lon=66.75")
    assert refused.exit_code == 1 and "lat: expected" in refused.output and "north" in refused.output
