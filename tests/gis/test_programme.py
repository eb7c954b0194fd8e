"""The remediation programme on the real demo register: within budget, never worse than greedy, exported."""

from __future__ import annotations

import json

import openpyxl
import pytest

from gis.db import make_engine
from gis.programme import programme
from gis.scoring import rescore
from gis.services import Register
from sites.errors import InvalidInput, SitesError
from sites.programme import NO_BENEFIT, NO_COST, OVER_BUDGET
from tests.conftest import cli_invoker

# Entered costs for a few demo sites (invented for the test); the rest keep estimates or have no cost at all.
ENTERED = {"KZ-KAR-0001": 12e9, "KZ-SHY-0001": 8e9, "KZ-PAV-0001": 6e9, "KZ-YUZ-0001": 3e9}
BUDGET = 20e9


@pytest.fixture(scope="module")
def register_url(demo_url):
    """The demo register scored, with entered costs on four sites and a waste volume on a fifth."""
    engine = make_engine(demo_url)
    register = Register(engine)
    rescore(engine, register.actor())
    changes = {code: {"remediation_cost_kzt": cost} for code, cost in ENTERED.items()}
    changes["KZ-VOS-0003"] = {"waste_volume_m3": 200_000}
    for code, fields in changes.items():
        register.update_site(register.actor(), code, register.get_site(code)["version"], fields)
    engine.dispose()
    return demo_url


@pytest.fixture(scope="module")
def planned(register_url):
    engine = make_engine(register_url)
    yield programme(engine, BUDGET)
    engine.dispose()


@pytest.fixture
def run(register_url, monkeypatch):
    invoke = cli_invoker(register_url, monkeypatch)
    return invoke


def test_the_budget_is_respected_and_the_programme_beats_greedy_by_rank(planned):
    assert 0 < planned["totals"]["cost_kzt"] <= planned["budget_kzt"] == 20_000_000_000
    assert sum(s["cost_kzt"] for s in planned["selected"]) == planned["totals"]["cost_kzt"]
    assert planned["greedy"]["cost_kzt"] <= planned["budget_kzt"]
    # Greedy by rank spends the whole budget on the first two sites; the MILP buys four smaller ones instead
    # (the worked example of docs/scoring.md).
    assert planned["greedy"]["codes"] == ["KZ-KAR-0001", "KZ-SHY-0001"]
    assert [s["code"] for s in planned["selected"]] == ["KZ-SHY-0001", "KZ-PAV-0001", "KZ-YUZ-0001", "KZ-KZY-0001"]
    assert planned["totals"]["cost_kzt"] == 17_327_500_000 and planned["totals"]["remaining_kzt"] == 2_672_500_000
    assert planned["totals"]["benefit"] > planned["greedy"]["benefit"]
    assert planned["gain_over_greedy"] == pytest.approx(planned["totals"]["benefit"] - planned["greedy"]["benefit"],
                                                        abs=0.02)
    assert [s["rank"] for s in planned["selected"]] == sorted(s["rank"] for s in planned["selected"])


def test_entered_costs_win_and_the_others_are_estimated_or_left_out(planned):
    records = {r["code"]: r for r in planned["selected"] + planned["left_out"]}
    assert records["KZ-SHY-0001"]["cost_kzt"] == 8_000_000_000 and records["KZ-SHY-0001"]["cost_estimated"] is False
    by_volume = records["KZ-VOS-0003"]
    assert by_volume["cost_estimated"] and by_volume["cost_kzt"] == 10_000_000_000 and "m3" in by_volume["cost_basis"]
    by_area = records["KZ-KZY-0001"]  # 1.31 ha in the demo inventory
    assert by_area["cost_estimated"] and "1.31 ha" in by_area["cost_basis"]
    assert records["KZ-ULT-0001"]["reason"] == NO_COST and records["KZ-ULT-0001"]["cost_kzt"] is None
    assert records["KZ-AKT-0002"]["reason"] == NO_BENEFIT  # estimated from its area, but its score is 0
    assert records["KZ-VOS-0003"]["reason"] == OVER_BUDGET


def test_every_ranked_site_is_either_chosen_or_left_out_with_a_reason(planned, register_url):
    codes = [r["code"] for r in planned["selected"]] + [r["code"] for r in planned["left_out"]]
    assert len(codes) == len(set(codes)) == 31
    assert all(r["reason"] in (NO_COST, NO_BENEFIT, OVER_BUDGET) for r in planned["left_out"])
    remaining = planned["totals"]["remaining_kzt"]
    assert all(r["cost_kzt"] > remaining for r in planned["left_out"] if r["reason"] == OVER_BUDGET)


def test_benefit_is_the_score_share_times_the_people_counted(planned):
    for site in planned["selected"]:
        assert site["benefit"] == pytest.approx(site["total"] / 100 * max(site["people"], 1.0), rel=1e-3)
    assert planned["scores"]["method"] == "kz-screening 1.0.0" and planned["scores"]["guidelines"] == "kz_pdk_soil"


def test_json_lists_the_chosen_sites_with_cost_and_risk_reduction_and_greedy_totals(run):
    result = run("programme", "--budget", "20 000 000 000", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["budget_kzt"] == 20_000_000_000
    assert {"code", "name", "class", "total", "cost_kzt", "cost_estimated", "benefit"} <= set(report["selected"][0])
    assert {"codes", "sites", "cost_kzt", "benefit", "remaining_kzt"} <= set(report["greedy"])
    assert report["totals"]["benefit"] >= report["greedy"]["benefit"]
    assert {"code", "reason"} <= set(report["left_out"][0])


def test_the_table_shows_the_programme_beside_greedy(run):
    result = run("programme", "--budget", "2e10")
    assert result.exit_code == 0, result.output
    assert "KZ-SHY-0001" in result.output and "greedy by rank: 2 sites" in result.output
    assert "kz-screening 1.0.0" in result.output and NO_COST in result.output


def test_a_region_limits_the_competition(run):
    report = json.loads(run("programme", "--budget", "1e12", "--region", "KZ-PAV", "--format", "json").output)
    assert report["region"] == "550000000"
    assert {r["region"] for r in report["selected"] + report["left_out"]} == {"Pavlodar"}


def test_xlsx_opens_and_carries_the_method_version_date_budget_and_greedy(run, tmp_path):
    path = tmp_path / "programme.xlsx"
    result = run("programme", "--budget", "2e10", "--format", "xlsx", "-o", str(path))
    assert result.exit_code == 0 and "wrote a programme of" in result.output
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Programme", "Left out"]
    values = {cell.value for row in book["Programme"].iter_rows() for cell in row if cell.value is not None}
    assert {"kz-screening 1.0.0", 20_000_000_000, "Greedy by rank", "KZ-KAR-0001, KZ-SHY-0001"} <= values
    labels = [row[0].value for row in book["Programme"].iter_rows()]
    assert "Date" in labels and "Budget (KZT)" in labels and "Scores: method and version" in labels
    reasons = {row[-1].value for row in book["Left out"].iter_rows(min_row=2)}
    assert NO_COST in reasons


def test_xlsx_needs_an_output_file(run):
    result = run("programme", "--budget", "2e10", "--format", "xlsx")
    assert result.exit_code == 1 and "output: expected a file to write the workbook to (-o PATH)" in result.output


@pytest.mark.parametrize("budget", ["0", "-5", "abc", "nan", "inf", "5,000", "2e15"])
def test_bad_budgets_are_refused_with_a_clear_message(run, budget):
    result = run("programme", "--budget", budget)
    assert result.exit_code == 1
    assert "Error: budget: expected a positive finite number of tenge" in result.output
    assert repr(budget) in result.output


def test_bad_budgets_are_refused_before_the_database_is_read():
    with pytest.raises(InvalidInput, match="budget"):
        programme(None, -1)


def test_an_unscored_register_is_refused(engine):
    with pytest.raises(SitesError, match="no scored sites"):
        programme(engine, 1e9)



def test_csv_lists_every_ranked_site_with_its_selected_flag_and_cost_source(run, planned):
    import csv
    import io

    result = run("programme", "--budget", "2e10", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 31 and [r["rank"] for r in rows] == [str(i) for i in range(1, 32)]
    chosen = [r["code"] for r in rows if r["selected"] == "True"]
    assert chosen == [s["code"] for s in planned["selected"]]
    by_code = {r["code"]: r for r in rows}
    assert (by_code["KZ-SHY-0001"]["cost_source"], by_code["KZ-VOS-0003"]["cost_source"]) == ("entered", "estimated")
    assert by_code["KZ-ULT-0001"]["cost_source"] == "none" and by_code["KZ-ULT-0001"]["reason"] == NO_COST
    assert {r["scores"] for r in rows} == {"kz-screening 1.0.0"} and rows[0]["budget_kzt"] == "20000000000"


def test_gpkg_holds_the_programme_as_points_with_its_budget_and_method(run, planned, tmp_path):
    import geopandas as gpd
    import pyogrio

    path = tmp_path / "programme.gpkg"
    result = run("programme", "--budget", "2e10", "--format", "gpkg", "-o", str(path))
    assert result.exit_code == 0 and "wrote a programme of 4 sites" in result.output
    assert [list(layer) for layer in pyogrio.list_layers(path)] == [["programme", "Point"]]
    layer = gpd.read_file(path, layer="programme")
    assert layer.crs.to_epsg() == 4326 and len(layer) == 31
    assert {"code", "name", "rank", "class", "total", "selected", "cost_kzt", "cost_source", "risk_reduction",
            "reason"} <= set(layer.columns)
    assert list(layer.loc[layer["selected"], "code"]) == [s["code"] for s in planned["selected"]]
    assert layer.loc[layer["selected"], "cost_kzt"].sum() == planned["totals"]["cost_kzt"]
    pavlodar = layer.set_index("code").loc["KZ-PAV-0001"]
    assert (round(pavlodar.geometry.x, 5), round(pavlodar.geometry.y, 5)) == (76.96881, 52.27601)
    metadata = pyogrio.read_info(path, layer="programme")["layer_metadata"]
    assert metadata["scores"] == "kz-screening 1.0.0" and metadata["budget_kzt"] == "20000000000"
    assert metadata["greedy_by_rank"].startswith("2 sites, 20000000000 KZT")


def test_gpkg_needs_an_output_file_in_an_existing_folder(run, tmp_path):
    result = run("programme", "--budget", "2e10", "--format", "gpkg")
    assert result.exit_code == 1 and "output: expected a file to write the GeoPackage to (-o PATH)" in result.output
    missing = tmp_path / "no such folder" / "p.gpkg"
    result = run("programme", "--budget", "2e10", "--format", "gpkg", "-o", str(missing))
    assert result.exit_code == 1 and "output: expected a file in an existing folder" in result.output
    assert not missing.parent.exists()
