"""Exposure in PostGIS: the SQL disk model matches the Python one, and the real layers rank the worst sites."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text

from gis.demo import load_demo
from gis.layer_import import import_layer
from gis.scoring import ranking, rescore
from gis.services import Register
from sites.scoring.spread import disk_share
from tests.conftest import demo_site_count, shared_data


def test_sql_disk_share_matches_python(engine):
    rng = random.Random(7)
    cases = [(rng.uniform(0, 20), rng.uniform(0.1, 15), rng.uniform(0, 8)) for _ in range(300)]
    cases += [(0, 1, 2), (5, 1, 2), (0, 2, 1), (3, 1, 2)]
    with engine.connect() as conn:
        for d, r, x in cases:
            sql = conn.execute(text("SELECT disk_share(:d, :r, :x)"), {"d": d, "r": r, "x": x}).scalar()
            assert sql == pytest.approx(disk_share(d, r, x), abs=1e-9), (d, r, x)


LAYERS = [
    ("kz/boundaries/kaz_admbnda_adm1_2024.shp", "region"),
    ("kz/boundaries/kaz_admbnda_adm2_2024.shp", "district"),
    ("kz/places/hotosm_kaz_populated_places_points.geojson", "settlement"),
    ("kz/water/rivers.geojson", "river"),
    ("kz/water/lakes.geojson", "lake"),
]
WORST = {"KZ-KAR-0001": "Temirtau/Nura mercury", "KZ-PAV-0001": "Pavlodar mercury",
         "KZ-SHY-0001": "Shymkent lead", "KZ-MAN-0001": "Koshkar-Ata"}


def test_real_layers_put_the_documented_worst_sites_in_class_1_or_2(engine):
    paths = [(shared_data(relative), kind) for relative, kind in LAYERS]
    register = Register(engine)
    admin = register.actor()
    load_demo(engine, admin)
    for path, kind in paths:
        import_layer(engine, admin, path, kind, source="../shared/data", licence="see shared/data/README.md")
    assert rescore(engine, admin).sites == demo_site_count()
    scores = {s["code"]: s for s in ranking(engine)}
    assert len(scores) == demo_site_count()
    for code, label in WORST.items():
        klass, total = scores[code]["priority_class"], scores[code]["total"]
        assert klass in ("1", "2"), f"{label}: {klass} {total:.1f}"
    for score in scores.values():
        assert sum(p["contribution"] for p in score["explanation"]["parts"]) == pytest.approx(score["total"], abs=0.01)
    temirtau = scores["KZ-KAR-0001"]["explanation"]["parts"][2]["factors"][2]["data"]
    assert any("Temirtau" in line or "Теміртау" in line for line in temirtau)  # OSM names are Kazakh
    assert register.get_site("KZ-KAR-0001")["region_kato"] == "350000000"
