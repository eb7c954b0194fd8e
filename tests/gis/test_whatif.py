"""What-if rankings on the real demo database: no overrides reproduce the official ranking; nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gis import tables as t
from gis.demo import load_demo
from gis.scoring import rescore
from gis.services import Register
from gis.whatif import compare
from sites.errors import SitesError
from sites.scoring.whatif import scenario
from tests.conftest import demo_site_count


@pytest.fixture
def scored(engine):
    register = Register(engine)
    load_demo(engine, register.actor())
    rescore(engine, register.actor())
    return register


def score_rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.score)).scalar()


def test_an_empty_scenario_is_the_official_ranking(engine, scored):
    rows = compare(engine, {})
    assert len(rows) == demo_site_count()
    assert all(r["scenario_rank"] == r["official_rank"] and r["moved"] == 0 for r in rows)
    assert all(r["scenario_total"] == r["official_total"] for r in rows)


def test_a_scenario_reorders_without_storing_anything(engine, scored):
    before = score_rows(engine)
    rows = compare(engine, {"default_exceedance": 1.0, "population_scale": 10_000})
    assert score_rows(engine) == before
    assert any(r["scenario_total"] != r["official_total"] for r in rows)
    assert sorted(r["scenario_rank"] for r in rows) == list(range(1, len(rows) + 1))
    assert sum(r["moved"] for r in rows) == 0  # places gained and lost balance


def test_official_scoring_refuses_to_run_inside_a_scenario(engine, scored):
    with scenario({"children_weight": 2}), pytest.raises(SitesError, match="what-if scenario is active"):
        rescore(engine, scored.actor())


def test_the_cli_lists_factors_and_compares_without_storing(engine, scored, db_url, monkeypatch):
    import json

    from tests.conftest import cli_invoker

    run = cli_invoker(db_url, monkeypatch)
    assert "children_weight\t3.0\t1-10" in run("whatif", "--list").output
    before = score_rows(engine)
    rows = json.loads(run("whatif", "--set", "population_scale=10000", "--format", "json").output)
    assert len(rows) == demo_site_count() and score_rows(engine) == before
    refused = run("whatif", "--set", "children_weight=50")
    assert refused.exit_code == 1 and "from 1 to 10" in refused.output


def test_stability_on_the_demo_repeats_with_a_seed_and_stores_nothing(engine, scored, db_url, monkeypatch):
    import json

    from gis.whatif import stability
    from tests.conftest import cli_invoker

    before = score_rows(engine)
    rows = stability(engine, draws=20, top=5, seed=3)
    assert len(rows) == demo_site_count() and score_rows(engine) == before
    assert sum(r["p_top"] for r in rows) == pytest.approx(5.0)
    assert rows[0]["official_rank"] == 1 and rows[0]["name"]
    printed = json.loads(cli_invoker(db_url, monkeypatch)("stability", "--draws", "20", "--top", "5", "--seed", "3",
                                                         "--format", "json").output)
    assert [(r["code"], r["p_top"]) for r in printed] == [(r["code"], r["p_top"]) for r in rows]


def saved_scenario(folder, **changes):
    import json

    document = {"name": "few people", "method": "kz-screening 1.0.0", "date": "2025-05-01",
                "overrides": {"population_scale": 10_000, "default_exceedance": 1.0}}
    path = folder / "few-people.json"
    path.write_text(json.dumps({**document, **changes}), encoding="utf-8")
    return path


def test_the_cli_reads_a_saved_scenario_and_set_applies_on_top(engine, scored, db_url, monkeypatch, tmp_path):
    import json

    from tests.conftest import cli_invoker

    run = cli_invoker(db_url, monkeypatch)
    path = str(saved_scenario(tmp_path))
    from_file = json.loads(run("whatif", "--scenario", path, "--format", "json").output)
    assert from_file == compare(engine, {"population_scale": 10_000, "default_exceedance": 1.0})
    on_top = json.loads(run("whatif", "--scenario", path, "--set", "default_exceedance=0.5", "--format",
                            "json").output)
    assert on_top == compare(engine, {"population_scale": 10_000})


@pytest.mark.parametrize("changes, message", [
    ({"method": "kz-screening 0.9.0"}, "Error: scenario method: expected kz-screening 1.0.0, the method version "
                                       "whose factors and bounds this register uses, received 'kz-screening 0.9.0'"),
    ({"overrides": {"farmland_bonus": 0.9}}, "Error: farmland_bonus: expected a value from 0 to 0.3"),
])
def test_the_cli_refuses_a_scenario_for_another_method_or_out_of_bounds(db_url, monkeypatch, tmp_path, changes,
                                                                        message):
    from tests.conftest import cli_invoker

    result = cli_invoker(db_url, monkeypatch)("whatif", "--scenario", str(saved_scenario(tmp_path, **changes)))
    assert result.exit_code == 1 and message in result.output


def test_the_cli_refuses_a_missing_scenario_file(db_url, monkeypatch, tmp_path):
    from tests.conftest import cli_invoker

    result = cli_invoker(db_url, monkeypatch)("whatif", "--scenario", str(tmp_path / "gone.json"))
    assert result.exit_code == 1 and "Error: scenario: expected a readable scenario file" in result.output
    assert "gone.json" in result.output


def test_a_scenario_exports_as_points_and_as_a_workbook(engine, scored, db_url, monkeypatch, tmp_path):
    import geopandas as gpd
    import openpyxl
    import pyogrio

    from tests.conftest import cli_invoker

    run = cli_invoker(db_url, monkeypatch)
    scenario_path, gpkg, xlsx = str(saved_scenario(tmp_path)), tmp_path / "few.gpkg", tmp_path / "few.xlsx"
    result = run("whatif", "--scenario", scenario_path, "--format", "gpkg", "-o", str(gpkg))
    assert result.exit_code == 0 and f"wrote the scenario 'few people' ({demo_site_count()} sites)" in result.output
    layer = gpd.read_file(gpkg, layer="whatif")
    assert layer.crs.to_epsg() == 4326 and len(layer) == demo_site_count()
    assert {"code", "name", "official_rank", "official_class", "official_total", "scenario_rank", "scenario_class",
            "scenario_total", "moved"} <= set(layer.columns)
    rows = {r["code"]: r for r in compare(engine, {"population_scale": 10_000, "default_exceedance": 1.0})}
    assert all(rows[code]["moved"] == moved for code, moved in zip(layer["code"], layer["moved"]))
    assert layer["moved"].abs().sum() > 0
    metadata = pyogrio.read_info(gpkg, layer="whatif")["layer_metadata"]
    assert metadata["method"] == "kz-screening 1.0.0" and metadata["name"] == "few people"
    assert '"population_scale": 10000.0' in metadata["overrides"]
    assert run("whatif", "--scenario", scenario_path, "--format", "xlsx", "-o", str(xlsx)).exit_code == 0
    values = [[cell.value for cell in row][:3] for row in openpyxl.load_workbook(xlsx)["Scenario"].iter_rows()]
    assert values[1][:2] == ["Method", "kz-screening 1.0.0"] and ["population_scale", 100_000, 10_000] in values
    assert sum(1 for row in values if row[0] in rows) == demo_site_count()


def test_binary_formats_need_an_output_file(db_url, monkeypatch):
    from tests.conftest import cli_invoker

    result = cli_invoker(db_url, monkeypatch)("whatif", "--format", "gpkg")
    assert result.exit_code == 1 and "output: expected a file to write to (-o PATH) with --format gpkg" in result.output
