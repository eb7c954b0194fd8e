"""The data in data/: complete, consistent, every fact traceable to a cited source."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from sites import vocab
from sites.records import validate_site
from sites.regions import BY_KATO
from sites.samples import validate_sample, validate_site_contaminant

DATA = Path(__file__).resolve().parents[2] / "data"


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def source_ids(name: str) -> set[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return set(re.findall(r"^\|\s*`?([A-Za-z0-9_]+)`?\s*\|", text, flags=re.M)) - {"id"}


def cited(cell: str) -> set[str]:
    return {part.strip() for part in cell.split(";") if part.strip()}


SITES = rows("demo_sites.csv")
FOUND = rows("demo_site_contaminants.csv")
CATALOGUE = {r["code"]: r for r in rows("contaminants.csv")}


def test_at_least_25_sites_with_unique_codes():
    codes = [s["code"] for s in SITES]
    assert len(codes) >= 25 and len(set(codes)) == len(codes)


@pytest.mark.parametrize("site", SITES, ids=lambda s: s["code"])
def test_every_demo_site_is_valid_sourced_and_in_its_region(site):
    fields = {k: (v or None) for k, v in site.items()}
    cleaned = validate_site(fields)
    assert cleaned["region_kato"] in BY_KATO
    assert site["code"].split("-")[1] == BY_KATO[cleaned["region_kato"]].abbr
    assert cited(site["sources"]) and cited(site["sources"]) <= source_ids("SOURCES-demo.md")
    assert site["location_precision"] != "facility" or site["location_note"], "facility points must say where from"


@pytest.mark.parametrize("row", FOUND, ids=lambda r: f"{r['site_code']}-{r['contaminant']}-{r['medium']}")
def test_every_contaminant_row_is_valid_and_cited(row):
    assert row["site_code"] in {s["code"] for s in SITES}
    assert row["contaminant"] in CATALOGUE
    validate_site_contaminant({"contaminant": row["contaminant"], "medium": row["medium"], "status": row["status"]})
    if row["reported_value"]:
        validate_sample({"contaminant": row["contaminant"], "medium": row["medium"], "value": row["reported_value"],
                         "unit": row["unit"], "qualifier": row["qualifier"] or "="})
    assert cited(row["sources"]) <= source_ids("SOURCES-demo.md") and row["evidence"]


def test_every_site_has_a_contaminant():
    assert {s["code"] for s in SITES} == {r["site_code"] for r in FOUND}


def cas_check_digit_ok(cas: str) -> bool:
    digits = cas.replace("-", "")
    body, check = digits[:-1], int(digits[-1])
    return sum(int(d) * (i + 1) for i, d in enumerate(reversed(body))) % 10 == check


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_catalogue_entries_are_well_formed(code):
    entry = CATALOGUE[code]
    assert entry["group"] in vocab.CONTAMINANT_GROUP
    assert all(entry[k] for k in ("name_en", "name_ru", "name_kk"))
    assert not entry["cas"] or (re.fullmatch(r"\d{2,7}-\d{2}-\d", entry["cas"]) and cas_check_digit_ok(entry["cas"]))
    assert cited(entry["source"]) <= source_ids("SOURCES-catalogue.md")
    assert entry["minamata"] == ("true" if code == "hg" else "false")


def test_cas_check_digit_rule_catches_a_typo():
    assert cas_check_digit_ok("7439-97-6") and not cas_check_digit_ok("7439-97-7")


def test_guideline_values_refer_to_known_sets_and_substances():
    sets = {r["code"] for r in rows("guideline_sets.csv")}
    for value in rows("guidelines.csv"):
        assert value["set_code"] in sets and value["contaminant"] in CATALOGUE
        assert float(value["value"]) > 0 and value["verified"] in ("V", "U")
        assert value["medium"] in vocab.MEDIUM
        assert cited(value["source"]) <= source_ids("SOURCES-catalogue.md")


def test_soil_guidelines_match_the_scoring_sources_table():
    """Spot-check verified cells of SCORING-SOURCES.md (mercury, lead, arsenic)."""
    table = {(r["set_code"], r["contaminant"]): float(r["value"]) for r in rows("guidelines.csv") if r["medium"] == "soil"}
    assert table[("kz_pdk_soil", "hg")] == 2.1 and table[("ccme_residential", "pb")] == 140
    assert table[("dutch_intervention", "as")] == 76 and table[("us_epa_rsl", "pb")] == 200
