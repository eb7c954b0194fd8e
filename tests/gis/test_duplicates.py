"""The duplicate check on real PostGIS: near sites, similar names in any script, archived and own sites left out."""

from __future__ import annotations

import pytest
from pyproj import Geod
from sqlalchemy import text

from gis.duplicates import DUPLICATES_SQL, find_duplicates, find_duplicates_many
from gis.services import Register
from sites.errors import InvalidInput
from tests.gis.factories import site_data

LAT, LON = 52.2871, 76.9674  # Pavlodar
WGS84 = Geod(ellps="WGS84")


def offset(metres: float, azimuth: float = 0.0) -> tuple[float, float]:
    """The point ``metres`` from (LAT, LON) along ``azimuth`` degrees, as (lat, lon)."""
    lon, lat, _ = WGS84.fwd(LON, LAT, azimuth, metres)
    return lat, lon


@pytest.fixture
def add(engine):
    register = Register(engine, rescore_on_write=False)
    admin = register.actor()

    def add_site(metres: float, azimuth: float = 0.0, **names) -> dict:
        lat, lon = offset(metres, azimuth)
        names = names or {"name_en": f"Unrelated depot {metres:.0f}"}
        return register.create_site(admin, site_data(lat=lat, lon=lon, **names))

    add_site.register, add_site.admin = register, admin
    return add_site


def check(engine, lat=LAT, lon=LON, name=None, **options) -> list[dict]:
    with engine.connect() as conn:
        return find_duplicates(conn, lat, lon, name, **options)


def test_a_site_300_m_away_is_found_and_one_800_m_away_is_not(engine, add):
    near = add(300, 45)
    add(800, 200)
    found = check(engine, name="Brand new well field")
    assert [r["code"] for r in found] == [near["code"]]
    assert found[0]["distance_m"] == pytest.approx(300, abs=1)
    assert found[0]["reason"] == "300 m away"
    assert found[0]["name"] == near["name_en"]


def test_results_are_nearest_first_then_by_name(engine, add):
    far_similar = add(20_000, 90, name_en="Pavlodar chemical plant")
    second, first = add(400, 10), add(100, 300)
    found = check(engine, name="Pavlodar chemical plant")
    assert [r["code"] for r in found] == [first["code"], second["code"], far_similar["code"]]
    assert found[2]["reason"] == "similar name (1.00)"
    assert found[2]["distance_m"] == pytest.approx(20_000, abs=1)


def test_a_far_site_with_a_similar_cyrillic_name_is_found(engine, add):
    plant = add(800, 200, name_en="Pavlodar chemical plant", name_ru="Павлодар химический завод")
    found = check(engine, name="Павлодарский химзавод")
    assert [r["code"] for r in found] == [plant["code"]]
    assert 0.45 <= found[0]["name_similarity"] <= 1
    assert found[0]["reason"].startswith("similar name (0.")


def test_near_and_similar_gives_both_reasons(engine, add):
    plant = add(120, name_kk="Павлодар химия зауыты")
    found = check(engine, name="ПАВЛОДАР ХИМИЯ ЗАУЫТЫ")  # case does not matter
    assert found[0]["code"] == plant["code"]
    assert found[0]["reason"] == "120 m away, similar name (1.00)"


def test_dissimilar_names_far_away_are_not_found(engine, add):
    add(5_000, name_en="Ust-Kamenogorsk lead-zinc smelter", name_ru="Усть-Каменогорский свинцово-цинковый комбинат")
    assert check(engine, name="Павлодарский химзавод") == []


@pytest.mark.parametrize("name", [None, "", "   "])
def test_without_a_name_only_distance_counts(engine, add, name):
    near = add(50)
    add(900, name_en="Unrelated depot 50")
    found = check(engine, name=name)
    assert [r["code"] for r in found] == [near["code"]]
    assert found[0]["name_similarity"] is None


def test_archived_sites_are_left_out(engine, add):
    site = add(200, name_en="Pavlodar chemical plant")
    add.register.archive_site(add.admin, site["code"], site["version"])
    assert check(engine, name="Pavlodar chemical plant") == []


def test_exclude_code_leaves_the_edited_site_out(engine, add):
    own, other = add(0), add(250)
    found = check(engine, name=own["name_en"], exclude_code=own["code"])
    assert [r["code"] for r in found] == [other["code"]]


def test_within_min_similarity_and_limit_are_honoured(engine, add):
    sites = [add(100 * i, 30 * i) for i in range(1, 5)]
    assert [r["code"] for r in check(engine, within_m=250)] == [s["code"] for s in sites[:2]]
    assert len(check(engine, within_m=1000, limit=3)) == 3
    exact = check(engine, name="Unrelated depot 300", within_m=1, min_similarity=1.0)
    assert [r["code"] for r in exact] == [sites[2]["code"]]
    assert len(check(engine, name="Unrelated depot 300", within_m=1, min_similarity=0.7)) == 4


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "AUTOCOMMIT"])
def test_a_threshold_below_pg_trgm_default_reaches_the_index_in_any_mode(engine, add, isolation):
    plant = add(5_000, name_ru="Павлодар химический завод")  # word similarity 0.44, under pg_trgm's default 0.6
    with engine.connect().execution_options(isolation_level=isolation) as conn:
        assert find_duplicates(conn, LAT, LON, "химзавод", min_similarity=0.6) == []
        found = find_duplicates(conn, LAT, LON, "химзавод", min_similarity=0.4)
    assert [r["code"] for r in found] == [plant["code"]]
    assert found[0]["name_similarity"] == pytest.approx(0.44)


def test_the_caller_connection_keeps_its_trigram_threshold(engine, add):
    add(100)
    with engine.connect() as conn:
        conn.execute(text("SELECT set_config('pg_trgm.word_similarity_threshold', '0.7', false)"))
        find_duplicates(conn, LAT, LON, "x", min_similarity=0.3)
        setting = conn.execute(text("SELECT current_setting('pg_trgm.word_similarity_threshold')")).scalar()
    assert float(setting) == pytest.approx(0.7)


@pytest.mark.parametrize("field, options, expected", [
    ("within_m", {"within_m": 0}, "above 0"),
    ("within_m", {"within_m": -5}, "above 0"),
    ("within_m", {"within_m": 50_001}, "at most 50,000"),
    ("within_m", {"within_m": float("nan")}, "distance in metres"),
    ("within_m", {"within_m": "500"}, "distance in metres"),
    ("min_similarity", {"min_similarity": 0}, "above 0 and at most 1"),
    ("min_similarity", {"min_similarity": 1.01}, "above 0 and at most 1"),
    ("limit", {"limit": 0}, "whole number"),
    ("lat", {"lat": 95}, "latitude"),
    ("lon", {"lon": float("inf")}, "longitude"),
])
def test_out_of_range_arguments_are_refused(engine, field, options, expected):
    with pytest.raises(InvalidInput) as error:
        check(engine, **options)
    assert error.value.field == field
    assert expected in str(error.value) and "received" in str(error.value)


def test_both_indexes_can_answer_the_candidates(engine, add):
    add(100)
    params = dict(lats=[LAT], lons=[LON], names=["pavlodar"], exclude_codes=[None], within_m=500.0,
                  min_similarity=0.45, limit=10, name_within_m=50_000.0, same_name=0.8)
    with engine.begin() as conn:
        # A table of one row is scanned whatever the indexes; forbidding that shows whether an index fits at all.
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(conn.execute(text("EXPLAIN " + DUPLICATES_SQL.text), params).scalars())
    assert "ix_site_geog" in plan and "ix_site_names_trgm" in plan, plan


def test_a_similar_name_far_away_counts_only_when_nearly_identical(engine, add):
    add(1_000_000, 270, name_en="Former pesticide storehouse, Kyzylkairat")  # 1,000 km west
    assert check(engine, name="Pesticide store at Shieli") == []
    twin = add(900_000, 270, name_en="Pesticide store at Shieli")
    assert [d["code"] for d in check(engine, name="Pesticide store at Shieli")] == [twin["code"]]


def test_many_points_are_checked_in_one_statement_in_their_order(engine, add):
    near = add(200)
    named = add(20_000, 270, name_ru="Павлодар химический завод")
    far_lat, far_lon = offset(30_000, 180)
    with engine.connect() as conn:
        found = find_duplicates_many(conn, [(far_lat, far_lon, None, None), (LAT, LON, None, None),
                                            (far_lat, far_lon, "Павлодарский химзавод", None),
                                            (LAT, LON, None, near["code"])])
    assert [[d["code"] for d in f] for f in found] == [[], [near["code"]], [named["code"]], []]
