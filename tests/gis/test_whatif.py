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
