"""Scoring runs against PostGIS: every site classed and explained, history kept, rescoring incremental."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from shapely.geometry import Point
from sqlalchemy import func, select, text

from gis import tables as t
from gis.cli import main
from gis.demo import load_demo
from gis.exposure import EXPOSURE_SQL, parameters
from gis.layers import Feature, replace_receptor_layer
from gis.scoring import ranking, rescore
from gis.services import Register
from sites.errors import InvalidInput, PermissionDenied
from tests.conftest import demo_site_count


@pytest.fixture
def demo(engine):
    register = Register(engine)
    load_demo(engine, register.actor())
    return register


def score_rows(engine, code=None):
    query = select(func.count()).select_from(t.score.join(t.site))
    if code:
        query = query.where(t.site.c.code == code)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def test_every_site_gets_a_class_and_an_explanation_that_adds_up(demo, engine):
    run = rescore(engine, demo.actor())
    scores = ranking(engine)
    assert run.sites == len(scores) == demo_site_count()
    assert sum(run.classes.values()) == run.sites and run.method_version == "1.0.0"
    for score in scores:
        assert score["priority_class"] in ("1", "2", "3", "N", "I")
        assert sum(p["contribution"] for p in score["explanation"]["parts"]) == pytest.approx(score["total"], abs=0.01)
    with engine.connect() as conn:
        stored = conn.execute(select(t.score.c.method, t.score.c.method_version, t.score.c.guideline_set)).first()
    assert tuple(stored) == ("kz-screening", "1.0.0", "kz_pdk_soil")


def test_rank_json_gives_what_a_planner_needs(demo, engine, monkeypatch):
    rescore(engine, demo.actor())
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False).replace("+psycopg", ""))
    result = CliRunner().invoke(main, ["rank", "--top", "3", "--format", "json"], catch_exceptions=False)
    ranked = json.loads(result.output)
    assert len(ranked) == 3
    assert {"code", "name", "class", "total", "hazard", "exposure", "pathways", "confidence", "explanation"} <= set(ranked[0])
    assert ranked[0]["total"] >= ranked[1]["total"] or ranked[1]["class"] == "I"
    pavlodar = CliRunner().invoke(main, ["rank", "--region", "KZ-PAV", "--format", "csv"]).output.splitlines()
    assert pavlodar[0].startswith("rank,code,class") and all(",Pavlodar," in line for line in pavlodar[1:])


def test_an_edit_rescores_only_that_site(demo, engine):
    rescore(engine, demo.actor())
    before = score_rows(engine)
    site = demo.get_site("KZ-SHY-0001")
    demo.update_site(demo.actor(), "KZ-SHY-0001", site["version"], {"containment": "good"})
    assert score_rows(engine) == before + 1
    assert score_rows(engine, "KZ-SHY-0001") == 2


def test_a_new_receptor_layer_rescores_everything(demo, engine):
    rescore(engine, demo.actor())
    before = score_rows(engine)
    replace_receptor_layer(engine, demo.actor(), "school", "test schools", "test", "CC0",
                           [Feature("School 1", None, Point(69.6, 42.31))])
    assert score_rows(engine) == before + demo_site_count()


def test_nothing_is_scored_before_the_first_run(demo, engine):
    assert score_rows(engine) == 0
    demo.update_site(demo.actor(), "KZ-SHY-0001", 1, {"containment": "good"})
    assert score_rows(engine) == 0


def test_bad_scoring_requests_are_refused(demo, engine):
    with pytest.raises(InvalidInput, match="guidelines.*kz_pdk_soil"):
        rescore(engine, demo.actor(), guidelines="martian")
    with pytest.raises(InvalidInput, match="method"):
        rescore(engine, demo.actor(), method="astrology")
    inspector = demo.add_user(demo.actor(), "i", "inspector", ["KZ-PAV"])
    with pytest.raises(PermissionDenied):
        rescore(engine, inspector)
    assert score_rows(engine) == 0


def test_exposure_query_uses_the_receptor_geography_index(demo, engine):
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO receptor_layer (id, kind, name, source, licence, feature_count) "
            "VALUES (900, 'settlement', 'grid', 'test', 'CC0', 20000)"))
        conn.execute(text(
            "INSERT INTO receptor (layer_id, kind, name, population, geom) "
            "SELECT 900, 'settlement', 'p' || i, 100, ST_SetSRID(ST_MakePoint(47 + (i % 200) * 0.2, "
            "41 + (i / 200) * 0.14), 4326) FROM generate_series(1, 20000) AS i"))
        conn.execute(text("ANALYZE receptor"))
        plan = conn.execute(text("EXPLAIN " + EXPOSURE_SQL.text), parameters(None)).scalars().all()
    assert any("ix_receptor_geog" in line for line in plan), "\n".join(plan)


def test_names_with_quotes_commas_and_newlines_survive_storage(demo, engine):
    odd = 'Посёлок "Свинец", 2-й\nучасток \\ юг'
    replace_receptor_layer(engine, demo.actor(), "settlement", "odd names", "test", "CC0",
                           [Feature(odd, 5000, Point(69.6, 42.31))])
    rescore(engine, demo.actor())
    shymkent = next(s for s in ranking(engine) if s["code"] == "KZ-SHY-0001")
    lines = [line for part in shymkent["explanation"]["parts"] for f in part["factors"] for line in f["data"]]
    assert any(odd in line for line in lines), lines


def test_a_run_that_fails_midway_stores_nothing(demo, engine, monkeypatch):
    import gis.scoring

    calls, real = [], gis.scoring.score_site

    def failing(inputs, guidelines):  # a fault injected into our own code, not a stand-in for PostGIS
        calls.append(inputs.code)
        if len(calls) == 5:
            raise RuntimeError("scoring failed on the fifth site")
        return real(inputs, guidelines)

    monkeypatch.setattr(gis.scoring, "score_site", failing)
    with pytest.raises(RuntimeError, match="fifth"):
        rescore(engine, demo.actor())
    assert score_rows(engine) == 0
